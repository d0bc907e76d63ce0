"""Every kind of message Dockyard sends, built from fixed, realistic inputs by the real pure renderers.

One place for the examples the golden files (tests/test_golden_messages.py) pin on every sink. Values
follow the seed teams' OOM message (seeds/004: app, project, unhealthy / total instances, node IP,
ExitCode 137 OOMKilled, 01-19 23:41:46 in UTC+8) and their event page (Unhealthy, Started, Pulled ...
reported by kubelet on cn-hangzhou.i-bp1...). Times are fixed and read in Asia/Shanghai, so the output
never depends on when or where the test runs. One alert carries hostile text (markup of every
platform, a javascript: URL, a line break) so the goldens pin escaping too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from bots import (approval_messages, build_messages, cluster_messages, digest_messages, event_messages,
                  freeze_messages, replies, rollout_messages, schedule_messages, silence_messages)
from bots.alert_messages import Alert, AlertGroup, render
from bots.incident_messages import incident_message
from bots.message import Message
from deploy.fetching import Revision
from rules.models import Service
from state.freezes import Freeze
from state.plans import Plan
from state.schedules import Schedule

ZONE = "Asia/Shanghai"
LOCALES = ("en", "zh-CN")


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# The seed's OOM: 01-19 23:41:46 in UTC+8 is 15:41:46 UTC; the first of three kills 12 minutes earlier.
OOM_AT = "2026-01-19T15:41:46Z"
NOW = _epoch(OOM_AT) + 30
OOM = {"reason": "OOMKilled", "service": "ledger", "env": "prod", "team": "payments", "status": "open",
       "severity": "critical", "count": 3, "first": _epoch(OOM_AT) - 12 * 60, "last": _epoch(OOM_AT),
       "last_finding": {"pod": "ledger-7d9f6c-x2k4p", "node_ip": "172.17.84.144", "container": "ledger",
                        "exit_code": 137, "reason": "OOMKilled", "restarts": 3, "at": OOM_AT,
                        "detail": "the container used more memory than its limit"}}
OOM_EVENTS = ["BackOff: Back-off restarting failed container ledger in pod ledger-7d9f6c-x2k4p",
              "Unhealthy: Readiness probe failed: dial tcp 172.30.54.43:9090: connect: connection refused"]
OOM_LOGS = ["2026-01-19 23:41:40.112 INFO  settle batch 88231 (4113 entries)",
            "2026-01-19 23:41:45.907 WARN  heap 1983M of 2048M after GC"]
RESOLVED = {**OOM, "status": "resolved", "resolved_at": _epoch(OOM_AT) + 25 * 60}
JOB_FAILED = {"reason": "JobFailed", "service": "reconcile", "env": "prod", "team": "payments", "status": "open",
              "severity": "warning", "count": 2, "first": _epoch("2026-01-19T02:31:05Z"), "last": _epoch(OOM_AT) - 60,
              "last_finding": {"run": "reconcile-29484030", "pod": "reconcile-29484030-8kq2z",
                               "node_ip": "172.17.84.170", "container": "reconcile", "exit_code": 2,
                               "reason": "Error", "at": "2026-01-19T15:40:46Z",
                               "detail": "Job has reached the specified backoff limit"}}
EVICTED = {"reason": "Evicted", "service": "web", "env": "prod", "team": "storefront", "status": "open",
           "severity": "warning", "count": 1, "first": _epoch(OOM_AT), "last": _epoch(OOM_AT),
           "last_finding": {"pod": "web-5c8d7b-q9w7e", "node_ip": "172.17.84.170", "at": OOM_AT,
                            "detail": "The node was low on resource: memory. Threshold quantity: 100Mi, "
                                      "available: 91204Ki. Container web was using 1623Mi, request is 1Gi."}}


def _alert(status: str, pod: str, fingerprint: str, starts: str, summary: str = "",
           url: str = "http://prometheus.shop.example.com/graph?g0.expr=rate%28grpc_errors%5B5m%5D%29") -> Alert:
    return Alert(status=status, labels={"alertname": "LedgerErrorRate", "service": "ledger", "severity": "critical",
                                        "namespace": "pay-prod", "pod": pod},
                 annotations={"summary": summary} if summary else {}, starts_at=starts,
                 ends_at="0001-01-01T00:00:00Z" if status == "firing" else "2026-01-19T16:05:00Z",
                 generator_url=url, fingerprint=fingerprint)


def _group(status: str, alerts: tuple[Alert, ...], common: dict[str, str] | None = None,
           annotations: dict[str, str] | None = None, external: str = "http://alertmanager.shop.example.com",
           group_labels: dict[str, str] | None = None) -> AlertGroup:
    return AlertGroup(group_key='{}:{alertname="LedgerErrorRate"}', status=status, receiver="dockyard",
                      group_labels=group_labels or {"alertname": "LedgerErrorRate"},
                      common_labels=common or {"alertname": "LedgerErrorRate", "service": "ledger",
                                               "severity": "critical", "namespace": "pay-prod"},
                      common_annotations=annotations if annotations is not None else
                      {"summary": "gRPC errors above 5% for 5 minutes"},
                      external_url=external, truncated=0, alerts=alerts)


FIRING = _group("firing", (
    _alert("firing", "ledger-7d9f6c-x2k4p", "3f2a9c1d0b7e4a65", "2026-01-19T15:30:00.123456789Z"),
    _alert("firing", "ledger-7d9f6c-m8t2v", "8e1b5d7c2a9f3b40", "2026-01-19T15:31:30Z",
           summary="errors above 9% on this pod"),
    _alert("resolved", "ledger-7d9f6c-h4n6r", "c0d4e8f2a6b1c9d3", "2026-01-19T15:20:00Z")))
ALL_RESOLVED = _group("resolved", (
    _alert("resolved", "ledger-7d9f6c-x2k4p", "3f2a9c1d0b7e4a65", "2026-01-19T15:30:00Z"),
    _alert("resolved", "ledger-7d9f6c-m8t2v", "8e1b5d7c2a9f3b40", "2026-01-19T15:31:30Z")))
# Whoever can post to Alertmanager writes these: chat markup of every platform, mentions, a line break,
# and link targets a browser must never open from chat.
HOSTILE_TEXT = ("<!channel> <@all> @here *bold* _it_ `code` [click](http://evil.example/x) "
                "![](http://evil.example/pixel.png) <a href=\"http://evil.example\">x</a> $userName=boss$ "
                "# heading | a | b | ~~gone~~ &amp; ```closed``` \n- list item\n1. numbered")
HOSTILE = _group(
    "firing",
    (Alert(status="firing", labels={"alertname": "Disk<Full>", "service": "api", "severity": "warning",
                                    "pod": "api-<script>alert(1)</script>", "namespace": "shop-prod"},
           annotations={"summary": HOSTILE_TEXT}, starts_at="2026-01-19T15:41:00Z", ends_at="0001-01-01T00:00:00Z",
           generator_url="javascript:alert(document.cookie)", fingerprint="d1e2f3a4b5c6d7e8"),),
    common={"alertname": "Disk<Full>", "service": "api", "severity": "warning", "team": "[x](javascript:alert(1))"},
    annotations={"summary": HOSTILE_TEXT, "description": "see `kubectl` **now** > /dev/null"},
    external="javascript:alert(1)//http://alertmanager", group_labels={"alertname": "Disk<Full>"})

SUMMARY = {"updated": 2, "ready": 1, "desired": 3}
DONE = {"updated": 3, "ready": 3, "desired": 3}
WHAT = "rolling update to v2.4.1"  # as jobs/rollout.py words it, and the stalled rollout as deploy/tracks.py does
ROLLOUT_STALLED = "no progress for 300s (2/3 updated, 1 not ready)"
APPROVAL = {"id": "ab12cd", "requester": "alice", "service": "ledger", "env": "prod",
            "image": "registry.local/pay/ledger:v2.4.1", "strategy_text": "canary 10%", "tag": "v2.4.1",
            "expires": _epoch("2026-01-19T17:41:46Z"), "approver_roles": ["sre", "payments-lead"], "status": "pending"}
DECIDED = {**APPROVAL, "status": "approved", "decided_by": "bob", "reason": "release train 2026-03"}


def _facts(locale: str) -> tuple[tuple[str, str], ...]:
    return build_messages.facts("alice", "e576225f0c1d2b3a", "refs/heads/main",
                                "registry.local/pay/ledger:main-e576225", 83.4, False, "go", locale)


STATES = {"hangzhou": {"updated": 3, "ready": 3, "desired": 3}, "shenzhen": {"updated": 1, "ready": 0, "desired": 3}}
LEDGER = Service.model_validate({
    "team": "payments", "language": "go", "git": "pay/ledger", "router": "replicas",
    "environments": {"test": {"namespace": "pay-test", "replicas": 1, "resources": "0.5C1G"},
                     "prod": {"namespace": "pay-prod", "replicas": 3, "resources": "1C1G", "approval": "required",
                              "autoscale": {"min": 3, "max": 10, "cpu": 60}}}})
LIVE = {"prod": {"desired": 3, "ready": 2, "updated": 3, "available": 2, "image": "registry.local/pay/ledger:v2.4.1",
                 "config": "9f86d081884c7d659a2feaa0c55ad015", "annotations": {}, "canary": None, "preview": None,
                 "router": "replicas",
                 "autoscale": {"min": 3, "max": 10, "current": 3, "desired": 3, "annotations": {}},
                 "pods": [{"name": f"ledger-7d9f6c-{suffix}", "track": "stable", "node": "cn-hangzhou.i-bp1abc",
                           "ip": ip, "image": "registry.local/pay/ledger:v2.4.1", "ready": ready,
                           "phase": "Running", "restarts": restarts, "started": "2026-01-19T12:02:10Z"}
                          for suffix, ip, ready, restarts in (("h4n6r", "172.30.54.43", True, 0),
                                                              ("m8t2v", "172.30.130.69", True, 0),
                                                              ("x2k4p", "172.30.1.1", False, 3))],
                 "warnings": ["BackOff: ledger-7d9f6c-x2k4p: Back-off restarting failed container ledger"]}}
# The seed's event page: a Warning and the Normal ones of a container start, by kubelet on an Alibaba node.
EVENTS = [
    {"uid": f"ev-{n}", "type": kind, "reason": reason, "message": message, "object": "ledger-7d9f6c-x2k4p",
     "kind": "Pod", "reporter": "kubelet", "host": "cn-hangzhou.i-bp1abc", "count": count, "at": at, "env": "prod"}
    for n, (kind, reason, message, count, at) in enumerate((
        ("Normal", "Pulling", "pulling image \"registry.local/pay/ledger:v2.4.1\"", 1, "2026-01-19T15:41:46Z"),
        ("Normal", "Pulled", "Successfully pulled image", 1, "2026-01-19T15:41:46Z"),
        ("Normal", "Created", "Created container", 1, "2026-01-19T15:41:47Z"),
        ("Normal", "Started", "Started container", 1, "2026-01-19T15:41:49Z"),
        ("Warning", "Unhealthy", "Readiness probe failed: dial tcp 172.30.1.1:9090: connect: connection refused",
         4, "2026-01-19T15:42:31Z")))]

# A busy hour: 60 distinct probe failures, more than /events shows and more than a WeCom app message holds.
MANY_EVENTS = [{**EVENTS[-1], "uid": f"probe-{n}", "object": f"ledger-7d9f6c-p{n:02d}", "count": 1 + n % 5,
                "at": f"2026-01-19T15:{n:02d}:07Z"} for n in range(60)]
DAY = digest_messages.TeamDay(
    team="payments", deploys=["ledger v2.4.1 to prod by alice", "reconcile v1.9.0 to test by bob"],
    rollbacks=["ledger prod to revision 41 (automatic: no progress for 300s)"], approvals=["ab12cd approved by bob"],
    incidents=[f"ledger (prod) OOMKilled ×{n}" for n in range(1, 11)], alerts=["LedgerErrorRate ×2"],
    open=["ledger (prod) OOMKilled since 2026-01-19 23:29:46 CST"])
FREEZE = Freeze("prod", "carol", "Spring Festival freeze", datetime(2026, 2, 24, 2, 0, tzinfo=timezone.utc))
SCHEDULE = Schedule("s7q2", _epoch("2026-01-20T14:00:00Z"), {}, "/deploy ledger v2.4.1 to prod", "alice",
                    {"sink": "console"})  # 22:00 the same day in Shanghai
REVISIONS = [Revision(40, "registry.local/pay/ledger:v2.3.9", "bob", "2026-01-18T09:12:03Z", "bob: /deploy ledger v2.3.9", 3),
             Revision(41, "registry.local/pay/ledger:v2.4.0", "alice", "2026-01-19T02:30:11Z",
                      "alice: /deploy ledger v2.4.0", 3),
             Revision(42, "registry.local/pay/ledger:v2.4.1", "alice", "2026-01-19T15:30:00Z",
                      "alice: /deploy ledger v2.4.1", 3)]
PLAN = Plan(id="plan-1", service="ledger", env="prod", image_tag="v2.4.1", steps=(10, 30, 60), every_seconds=600,
            who="alice", reply_to={"sink": "console"}, index=1, failures=1, status="running",
            readings=({"name": "error rate", "value": 0.031, "bound": "< 0.02", "ok": False, "note": ""},
                      {"name": "p99 latency", "value": None, "bound": "< 0.5", "ok": False,
                       "note": "no samples in 5m"}),
            history=("10% live", "analysis passed: 30% live", "analysis failed at 30%: error rate 0.031"))


@dataclass(frozen=True)
class Kind:
    """One kind of message: its name, and how to build it in a locale (None: the renderer has no locale)."""

    name: str
    build: Callable[[str], Message]
    localized: bool = True


KINDS: tuple[Kind, ...] = (
    Kind("incident-oom", lambda lo: incident_message(OOM, 1, 2, OOM_EVENTS, OOM_LOGS, NOW, lo, ZONE)),
    Kind("incident-resolved", lambda lo: incident_message(RESOLVED, 0, 0, [], [], NOW, lo, ZONE)),
    Kind("incident-jobfailed", lambda lo: incident_message(JOB_FAILED, 0, 0, [], ["panic: ledger snapshot missing"],
                                                           NOW, lo, ZONE)),
    Kind("incident-evicted", lambda lo: incident_message(EVICTED, 1, 4, [], [], NOW, lo, ZONE)),
    Kind("alert-firing", lambda lo: render(FIRING, lo, ZONE)),
    Kind("alert-resolved", lambda lo: render(ALL_RESOLVED, lo, ZONE)),
    Kind("alert-hostile", lambda lo: render(HOSTILE, lo, ZONE)),
    Kind("rollout-progress", lambda lo: rollout_messages.progress("ledger", "prod", WHAT, SUMMARY, locale=lo)),
    Kind("rollout-done", lambda lo: rollout_messages.done("ledger", "prod", WHAT, DONE, 41.6, locale=lo)),
    Kind("rollout-failed", lambda lo: rollout_messages.failed(
        "ledger", "prod", "canary 25% of v2.4.1", ROLLOUT_STALLED, ["ledger-canary-6f5b-2xq: CrashLoopBackOff"],
        "the canary was removed; stable is untouched", locale=lo)),
    Kind("rollout-rolled-back", lambda lo: rollout_messages.rolled_back(
        "ledger", "prod", WHAT, ROLLOUT_STALLED,
        ["ledger-6f5b-2xq: CrashLoopBackOff", "ledger-6f5b-9kd: Readiness probe failed"],
        "revision 41 (registry.local/pay/ledger:v2.4.0)", locale=lo)),
    Kind("rollout-canary-live", lambda lo: rollout_messages.canary_live(
        "ledger", "prod", "registry.local/pay/ledger:v2.4.1",
        "25% asked, 1 of 4 pods = 25% actual (replicas: no router, the Service spreads requests over every pod)", 52.2,
        locale=lo)),
    Kind("approval-request", lambda lo: approval_messages.request(APPROVAL, lo, ZONE)),
    Kind("approval-decided", lambda lo: approval_messages.decided(DECIDED, lo, ZONE)),
    Kind("build-done", lambda lo: build_messages.built("ledger", "main-e576225", _facts(lo), "7b1c2d3e", "test", lo)),
    Kind("build-failed", lambda lo: build_messages.failed(
        "ledger", "e576225f0c1d2b3a", _facts(lo), "exit code 1 in step go build",
        ["#12 [build 4/5] RUN go build ./...", "#12 0.912 ledger/settle.go:88:2: undefined: batchSize"], lo)),
    Kind("events", lambda lo: event_messages.events_message("ledger", 3600, EVENTS, "all", "", True, lo, ZONE)),
    Kind("events-many", lambda lo: event_messages.events_message("ledger", 3600, MANY_EVENTS, "warning", "probe",
                                                                 False, lo, ZONE)),
    Kind("freeze", lambda lo: freeze_messages.started(
        Freeze("prod", "carol", "Spring Festival freeze", datetime(2026, 2, 24, 2, 0, tzinfo=timezone.utc)), ZONE, lo)),
    Kind("freeze-broken", lambda lo: freeze_messages.broken(
        "/deploy ledger", "dave", "hotfix for the settlement bug", FREEZE, ZONE, lo)),
    Kind("schedule", lambda lo: schedule_messages.scheduled(SCHEDULE, ZONE, lo)),
    Kind("schedule-list", lambda lo: schedule_messages.listing([SCHEDULE], ZONE, lo)),
    Kind("silence", lambda lo: silence_messages.silenced(
        "LedgerErrorRate", datetime(2026, 1, 19, 16, 41, 46, tzinfo=timezone.utc), "5c1e8a2b-77f0", "alice", ZONE, lo)),
    Kind("status", lambda lo: replies.status_message("ledger", LEDGER, LIVE, ["prod"], now="2026-01-19T15:42:46Z",
                                                     locale=lo, zone=ZONE)),
    Kind("history", lambda lo: replies.history_message("ledger", "prod", REVISIONS, zone=ZONE, locale=lo)),
    Kind("logs", lambda lo: replies.logs_message("ledger", "prod", 2, [replies.PodLog(
        "ledger-7d9f6c-x2k4p", tuple(OOM_LOGS), {"reason": "OOMKilled", "exit_code": 137, "finished": OOM_AT,
                                                  "restarts": 3})], 4000, previous=True, zone=ZONE, locale=lo)),
    Kind("cluster-rollout-progress", lambda lo: cluster_messages.progress("ledger", "prod", WHAT, STATES, lo)),
    Kind("cluster-rollout-failed", lambda lo: cluster_messages.failed(
        "ledger", "prod", WHAT, {"shenzhen": (ROLLOUT_STALLED, ["ledger-6f5b-2xq: OOMKilled"])},
        {"hangzhou": "revision 41", "shenzhen": "revision 41"}, [], lo)),
    Kind("cluster-incident", lambda lo: cluster_messages.cluster_incident(
        "shenzhen", {"region": "cn-shenzhen"}, "unreachable", "connection timed out after 10s", OOM_AT, lo, ZONE)),
    Kind("canary-plan", lambda lo: rollout_messages.plan(PLAN, 3, lo)),
    Kind("canary-stale", lambda lo: rollout_messages.stale("ledger", "prod", "canary", 30 * 3600, "alice", lo)),
    Kind("cron-job-set", lambda lo: rollout_messages.cron_job_set(
        "reconcile", "prod", "registry.local/pay/reconcile:v1.9.0", "30 2 * * *", "Forbid", lo)),
    Kind("autoscaling", lambda lo: rollout_messages.autoscaling("ledger", "prod", 3, 12, "60% CPU", "3–10 at 60% CPU",
                                                                lo)),
    Kind("held", lambda lo: replies.held_digest([incident_message(OOM, 1, 2, [], [], NOW, lo, ZONE),
                                                 rollout_messages.done("ledger", "prod", WHAT, DONE, 41.6, locale=lo)],
                                                lo)),
    Kind("daily-digest", lambda lo: digest_messages.digest(DAY, "2026-01-19", lo)),
)


def digested() -> list[Message]:
    """Several messages a burst merges into one digest: alerts with links and Silence, an approval, an incident."""
    return [render(FIRING, "en", ZONE), render(HOSTILE, "en", ZONE), approval_messages.request(APPROVAL, "en", ZONE),
            incident_message(OOM, 1, 2, OOM_EVENTS, OOM_LOGS, NOW, "en", ZONE),
            rollout_messages.done("ledger", "prod", WHAT, DONE, 41.6)]
