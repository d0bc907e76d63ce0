"""/events as the seed teams kept them: level, reason, reporter, host, count and dated time, filtered by level
and keyword; Evicted and FailedMount become incidents. Pure parts, and the job over real Redis and workers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bots import commands as c
from bots.event_messages import event_line, events_message, select
from bots.grammar import CommandError, parse
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from jobs import incidents
from tests.rollout_fixtures import Chat
from watcher import detect

NOW = datetime(2026, 12, 4, 11, 0, tzinfo=timezone.utc)
USAGE = "/events <svc> [--since 1h] [--level warning|normal|all] [--grep <word>]"


def k8s_event(uid: str, type_: str, reason: str, message: str, count: int = 1, obj: str = "web-5d8f7c9b4-x2x9k",
              at: str = "2026-12-04T15:41:07Z", rv: str = "4711") -> dict:
    """A core/v1 Event as the API serves it (sanitized to plain data, as the watcher sees it)."""
    return {"metadata": {"uid": uid, "name": f"{obj}.{uid}", "namespace": "shop-test", "resourceVersion": rv},
            "type": type_,
            "reason": reason, "message": message, "count": count, "firstTimestamp": "2026-12-04T15:30:00Z",
            "lastTimestamp": at, "source": {"component": "kubelet", "host": "node-a1"},
            "involvedObject": {"kind": "Pod", "name": obj, "namespace": "shop-test"}}


# --- /events parsing ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,command", [
    ("/events web", c.Events("web")),
    ("/events web --since 30m", c.Events("web", since_seconds=1800)),
    ("/events web --level normal", c.Events("web", level="normal")),
    ("/events web --level WARNING --since 2h", c.Events("web", since_seconds=7200, level="warning")),
    ("/events web --grep probe --level all", c.Events("web", level="all", grep="probe")),
    ('/events web --grep "probe failed"', c.Events("web", grep="probe failed")),
])
def test_events_options_in_any_order(text, command):
    assert parse(text, NOW) == command
    assert c.Command.from_dict(command.to_dict()) == command  # what the job receives


@pytest.mark.parametrize("text,reason", [
    ("/events web --level loud", "--level 'loud' is not warning, normal or all"),
    ("/events web --level", "missing level after --level"),
    ("/events web --grep", "missing keyword after --grep"),
    ("/events web --since 1h --since 2h", "--since is given twice"),
    ("/events web --tail 5", "unexpected '--tail': /events takes --since, --level and --grep"),
    ("/events web extra", "unexpected 'extra'"),
])
def test_a_wrong_flag_gets_one_line_and_the_usage(text, reason):
    with pytest.raises(CommandError) as caught:
        parse(text, NOW)
    assert caught.value.reason.startswith(reason) and "\n" not in caught.value.reason
    assert caught.value.usage == USAGE


# --- detection --------------------------------------------------------------------------------------

def test_a_kept_event_has_the_seed_columns():
    event = k8s_event("u1", "Normal", "Pulled", 'Successfully pulled image "registry.local/shop/web:v1"', count=3)
    assert detect.kept_event(event, "test") == {
        "uid": "u1", "type": "Normal", "reason": "Pulled", "message": event["message"], "object": "web-5d8f7c9b4-x2x9k",
        "kind": "Pod", "reporter": "kubelet", "host": "node-a1", "count": 3, "at": "2026-12-04T15:41:07Z",
        "env": "test", "rv": "4711"}


def test_newer_events_api_fields_are_read_too():
    event = {"metadata": {"uid": "u2"}, "type": "Warning", "reason": "BackOff", "message": "Back-off",
             "reportingComponent": "kubelet", "reportingInstance": "node-b2", "eventTime": "2026-12-04T15:00:00.000000Z",
             "series": {"count": 7, "lastObservedTime": "2026-12-04T15:09:00.000000Z"},
             "involvedObject": {"kind": "Pod", "name": "web-1"}}
    kept = detect.kept_event(event, "prod")
    assert (kept["reporter"], kept["host"], kept["count"], kept["at"]) == \
        ("kubelet", "node-b2", 7, "2026-12-04T15:09:00.000000Z")


def test_normal_events_are_kept_only_where_the_catalog_says_all():
    normal, warning = k8s_event("n", "Normal", "Started", "Started container"), k8s_event("w", "Warning", "X", "y")
    assert not detect.keeps(normal, "warning") and detect.keeps(normal, "all")
    assert detect.keeps(warning, "warning") and detect.keeps(warning, "all")


def test_the_catalog_setting_defaults_to_warnings(example_rules):
    assert {svc.events for svc in example_rules.catalog.services.values()} == {"warning"}


@pytest.mark.parametrize("message,detail", [
    ('MountVolume.SetUp failed for volume "config-0" : configmap "web-config" not found',
     'volume config-0 failed to mount: MountVolume.SetUp failed for volume "config-0" : configmap "web-config" '
     'not found'),
    ("Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-7x]: "
     "timed out waiting for the condition",
     "volume data failed to mount: Unable to attach or mount volumes: unmounted volumes=[data], unattached "
     "volumes=[data kube-api-access-7x]: timed out waiting for the condition"),
    ("something else went wrong", "something else went wrong"),
])
def test_failed_mount_is_a_finding_naming_the_volume(message, detail):
    finding = detect.from_event(k8s_event("m1", "Warning", "FailedMount", message, count=2), "web", "test")
    assert finding is not None
    assert (finding.reason, finding.detail, finding.pod, finding.key, finding.at) == \
        ("FailedMount", detail, "web-5d8f7c9b4-x2x9k", "m1:2", "2026-12-04T15:41:07Z")
    assert detect.from_event(k8s_event("m2", "Normal", "FailedMount", message), "web", "test") is None


def test_an_evicted_pod_is_a_finding_with_the_eviction_message():
    pod = {"metadata": {"uid": "p1", "name": "web-5d8f7c9b4-x2x9k"},
           "status": {"phase": "Failed", "reason": "Evicted", "hostIP": "10.0.0.7",
                      "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi.",
                      "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                                      "lastTransitionTime": "2026-12-04T15:41:07Z"}]}}
    [finding] = detect.from_pod(pod, "web", "test")
    assert (finding.reason, finding.key, finding.node_ip, finding.at) == \
        ("Evicted", "p1:evicted", "10.0.0.7", "2026-12-04T15:41:07Z")
    assert finding.detail.startswith("The node was low on resource: memory.")
    assert detect.from_pod({"metadata": {"uid": "p2"}, "status": {"phase": "Failed", "reason": "DeadlineExceeded"}},
                           "web", "test") == []


# --- rendering ----------------------------------------------------------------------------------------

KEPT = [detect.kept_event(k8s_event("a", "Warning", "Unhealthy", "Readiness probe failed: connection refused",
                                    at="2026-12-04T15:42:31Z"), "test"),
        detect.kept_event(k8s_event("b", "Normal", "Pulled", "Successfully pulled image", at="2026-12-04T15:41:46Z"),
                          "test"),
        detect.kept_event(k8s_event("a", "Warning", "Unhealthy", "Readiness probe failed: connection refused",
                                    count=4, at="2026-12-04T15:43:31Z"), "test"),
        detect.kept_event(k8s_event("c", "Normal", "Started", "Started container web", at="2026-12-04T15:41:49Z"),
                          "test")]


def test_an_event_from_one_of_several_clusters_names_it():
    kept = detect.kept_event(k8s_event("e1", "Warning", "BackOff", "Back-off restarting"), "prod", cluster="east")
    assert "  BackOff  web-5d8f7c9b4-x2x9k (prod, east): Back-off restarting" in event_line(kept)
    assert "cluster" not in detect.kept_event(k8s_event("e1", "Warning", "BackOff", "x"), "prod")  # one cluster


def test_each_event_is_one_line_with_level_reason_count_reporter_host_and_dated_local_time():
    assert event_line(KEPT[2], zone="Asia/Shanghai") == (
        "2026-12-04 23:43:31 CST  Warning  Unhealthy ×4  web-5d8f7c9b4-x2x9k (test): Readiness probe failed: "
        "connection refused (reported by kubelet on node-a1)")
    assert event_line(KEPT[1], locale="zh-CN", zone="Asia/Shanghai") == (
        "2026-12-04 23:41:46 CST  正常  Pulled  web-5d8f7c9b4-x2x9k (test): Successfully pulled image"
        "（汇报者 kubelet，来源机器 node-a1）")


def test_a_repeat_replaces_its_earlier_count_and_the_newest_is_last():
    assert [(e["reason"], e["count"]) for e in select(KEPT)] == [("Pulled", 1), ("Started", 1), ("Unhealthy", 4)]


def test_events_of_the_same_second_are_ordered_by_when_the_apiserver_stored_them():
    # A list returns events by name; within one second only the resourceVersion says which came later.
    same = "2026-12-04T15:41:07Z"
    listed = [detect.kept_event(k8s_event("p", "Normal", "Pulled", "pulled", obj="web-1", at=same, rv="910"), "test"),
              detect.kept_event(k8s_event("s", "Normal", "ScalingReplicaSet", "scaled up", obj="web", at=same,
                                          rv="905"), "test")]
    assert [e["reason"] for e in select(listed)] == ["ScalingReplicaSet", "Pulled"]


def test_level_and_keyword_filter_what_is_shown():
    assert [e["reason"] for e in select(KEPT, "warning")] == ["Unhealthy"]
    assert [e["reason"] for e in select(KEPT, "normal")] == ["Pulled", "Started"]
    assert [e["reason"] for e in select(KEPT, "all", "PROBE")] == ["Unhealthy"]
    assert [e["reason"] for e in select(KEPT, "all", "node-a1")] == ["Pulled", "Started", "Unhealthy"]  # the host
    old = [{"reason": "BackOff", "message": "Back-off restarting", "object": "web-1", "at": "2026-12-04T15:00:00Z"}]
    assert select(old, "warning") == old  # kept before levels were: a warning (nothing else was kept)


def test_the_message_says_what_was_asked_and_how_to_keep_normal_events():
    shown = events_message("web", 3600, KEPT, level="warning", grep="probe", zone="Asia/Shanghai")
    assert shown.title == "web: 1 warning(s) in the last 1h matching 'probe'"
    assert shown.lines == (event_line(KEPT[2], zone="Asia/Shanghai"),)
    assert events_message("web", 7200, KEPT).title == "web: 3 event(s) in the last 2h"
    none = events_message("api", 1800, [], level="normal")
    assert none.title == "no Normal events for api in the last 30m"
    assert none.lines == ("only Warning events are kept for api: set `events: all` on it in the catalog to keep "
                          "Normal ones too",)
    assert events_message("api", 1800, [], level="normal", keeps_normal=True).lines == ()
    zh = events_message("web", 3600, KEPT, level="normal", keeps_normal=True, locale="zh-CN")
    assert zh.title == "web：最近 1h 共 2 条正常事件"


def test_a_long_window_shows_the_newest_fifty():
    many = [detect.kept_event(k8s_event(f"u{i}", "Warning", "BackOff", f"back-off {i}"), "test") for i in range(60)]
    shown = events_message("web", 3600, many)
    assert shown.title == "web: 60 event(s) in the last 1h"
    assert shown.footer == "10 older not shown"  # where no sink's size cut can drop it
    assert len(shown.lines) == 50 and shown.lines[-1].endswith("back-off 59 (reported by kubelet on node-a1)")


# --- the job, over real Redis and workers ------------------------------------------------------------

def test_events_job_answers_in_the_configured_time_zone_filtered(rt, redis_server):
    settings = Settings(**{**rt.settings.model_dump(), "timezone": "Asia/Shanghai"})
    previous = runtime._current
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    try:
        for event in KEPT:
            incidents.keep_event("web", event)
        chat = Chat(live)
        [warnings] = chat("alice", "/events web --level warning --grep probe")
        assert warnings["message"]["title"] == "web: 1 warning(s) in the last 1h matching 'probe'"
        assert "2026-12-04 23:43:31 CST  Warning  Unhealthy ×4" in warnings["text"]
        [normal] = chat("alice", "/events web --level normal --since 7d")
        assert "Pulled" in normal["text"] and "set `events: all` on it in the catalog" in normal["text"]
        [wrong] = chat("alice", "/events web --level loud")
        assert wrong["text"].startswith("--level 'loud' is not warning, normal or all")
    finally:
        runtime._current = previous
