"""Health incidents: one chat message per (service, environment, reason), updated as it grows, resolved when quiet.

Findings arrive from the watcher. Each carries a key unique to its occurrence
(pod uid + restart count, event uid + count), remembered in Redis, so a
relist, a 410, a restarted watcher or a second watcher never counts one twice.
"""

from __future__ import annotations

import json
import logging
import time

from bots.incident_messages import incident_message
from bots.message import Message
from core import runtime
from deploy import fetching
from deploy import clusters
from jobs import held
from jobs.notify import show
from rules import routing
from state import holds
from watcher.detect import Finding

log = logging.getLogger("dockyard.health")
SEEN_TTL = 7 * 86400
UPDATE_EVERY = 2.0  # seconds between edits of one incident's message (a storm must not flood the API)
EVENTS_MAX = 10_000  # per service stream
EVENTS_RETENTION = 7 * 86400


def _incident_key(service: str, env: str, reason: str, cluster: str = "") -> str:
    """One incident per service, environment and reason, and per cluster when the catalog has several."""
    return f"dockyard:incident:{service}:{env}:{reason}" + (f":{cluster}" if cluster else "")


def _kube(cluster: str = ""):  # type: ignore[no-untyped-def]
    """The cluster an incident happened on (the only one, when it names none); None without any."""
    rt = runtime.get()
    if rt.settings.kubeconfig is None and not rt.rules.catalog.clusters:
        return None
    return clusters.kube_for(rt, cluster or rt.rules.catalog.cluster_names[0])


def _load(key: str) -> dict | None:
    raw = runtime.get().redis.get(key)
    return json.loads(raw) if raw else None


def _save(key: str, incident: dict) -> None:
    runtime.get().redis.set(key, json.dumps(incident), ex=30 * 86400)


def _instances(service: str, env: str, cluster: str = "") -> tuple[int, int]:
    """(unhealthy, total) pods of the service's stable track right now (on the incident's cluster).

    A pod that has ended (an evicted one stays, phase Failed, until collected) is no instance any
    more: counting it would keep an eviction's incident open long after its replacement is ready."""
    rt = runtime.get()
    kube = _kube(cluster)
    if kube is None:
        return 0, 0
    namespace = rt.rules.catalog.services[service].environments[env].namespace
    pods = [p for p in fetching.pods(kube, namespace, {"app": service})
            if (p.status.phase if p.status else None) not in ("Failed", "Succeeded")]
    return sum(1 for p in pods if not fetching.is_ready(p)), len(pods)


def recent_events(service: str, seconds: float = 3600, limit: int = 50) -> list[dict]:
    """The newest `limit` events kept for a service in the window (Warning, and Normal where the catalog
    keeps them), oldest first."""
    start_ms = int((time.time() - seconds) * 1000)
    rows = runtime.get().redis.xrevrange(f"dockyard:events:{service}", max="+", min=f"{start_ms}-0", count=limit)
    return [json.loads(fields[b"event"]) for _, fields in reversed(rows)]


def keep_event(service: str, event: dict) -> None:
    """Store an event in the service's stream (capped; trimmed to the retention by the sweep)."""
    runtime.get().redis.xadd(f"dockyard:events:{service}", {"event": json.dumps(event)}, maxlen=EVENTS_MAX,
                             approximate=True)


def _muted(service: str) -> bool:
    return holds.muted(runtime.get().redis, service)


def _pod_logs(incident: dict) -> list[str]:
    """The last lines of the pod the incident last saw (kwok pods have none: say what the API said)."""
    rt = runtime.get()
    pod = incident.get("last_finding", {}).get("pod")
    kube = _kube(incident.get("cluster", ""))
    if not pod or kube is None or incident.get("status") != "open":
        return []
    namespace = rt.rules.catalog.services[incident["service"]].environments[incident["env"]].namespace
    try:
        text = kube.core.read_namespaced_pod_log(
            pod, namespace, tail_lines=5, previous=incident["reason"] in ("OOMKilled", "CrashLoopBackOff"),
            _request_timeout=5)
        return text.splitlines()[-5:]
    except Exception as exc:  # no kubelet behind kwok nodes, a pod already gone, ...
        return [f"(no logs from {pod}: {getattr(exc, 'status', None) or exc.__class__.__name__})"]


def _publish(incident: dict, force: bool = False) -> dict:
    """Post the incident's message, or edit the one already posted (at most every UPDATE_EVERY seconds)."""
    rt = runtime.get()
    now = time.time()
    throttled = incident.get("refs") and not force and now - incident.get("published", 0) < UPDATE_EVERY
    if throttled or _muted(incident["service"]):  # the sweep publishes it later
        incident["dirty"] = True
        return incident
    unhealthy, total = _instances(incident["service"], incident["env"], incident.get("cluster", "")) \
        if incident.get("status") == "open" else (0, 0)
    events = [f"{e['reason']}: {e['message']}" for e in recent_events(incident["service"], 1800)
              if e.get("type", "Warning") == "Warning"]  # Normal ones (Pulled, Started) are no evidence
    logs = _pod_logs(incident)
    default = routing.default_style(rt.settings)

    def render(name: str) -> Message:  # in the channel's language and time zone
        style = routing.channel_style(rt.rules.routing.channels[name], default)
        return incident_message(incident, unhealthy, total, events, logs, now, style.locale, style.zone)

    labels = routing.service_labels(rt.rules, incident["service"], env=incident["env"],
                                    severity=incident.get("severity", "warning"), kind="health")
    refs = incident.setdefault("refs", {})
    targets, quiet = routing.split_quiet_named(rt.rules, labels)
    for name in quiet:
        if incident.get("held_in") != f"{name}:{incident['count']}:{incident.get('status')}":
            held.hold(name, render(name))
            incident["held_in"] = f"{name}:{incident['count']}:{incident.get('status')}"
    for name, target in targets:
        field = json.dumps(target, sort_keys=True)
        refs[field] = show(target, render(name), refs.get(field))
    incident["published"], incident["dirty"] = now, False
    return incident


RESTARTING = frozenset({"OOMKilled", "CrashLoopBackOff"})  # findings that come once per container restart


def _occurrences(incident: dict, f: Finding) -> int:
    """How many occurrences a finding adds. A restart-driven finding adds the restarts since the last one its
    container showed: restarts that happened while no watcher watched (a restarted watcher, a broken watch)
    still count. The first one a container shows counts once: what ended its earlier runs is not known."""
    if f.reason not in RESTARTING or not f.pod:
        return 1
    seen = incident.setdefault("restarts", {})
    where = f"{f.pod}/{f.container}"
    before = seen.get(where)
    seen[where] = max(f.restarts, before or 0)
    return f.restarts - before if before is not None and f.restarts > before else 1


def record(finding: dict) -> str:
    """RQ job: count a finding into its incident and tell the team."""
    rt = runtime.get()
    f = Finding(**finding)
    if not rt.redis.set(f"dockyard:health:seen:{f.key}", "1", nx=True, ex=SEEN_TTL):
        return "seen"
    key = _incident_key(f.service, f.env, f.reason, f.cluster)
    with rt.redis.lock(f"{key}:lock", timeout=60, blocking_timeout=30):
        incident = _load(key)
        now = time.time()
        if f.resolved:
            if incident is None or incident["status"] != "open":
                return "nothing open"
            if f.at and f.at < incident["last_finding"].get("at", ""):
                return "older"  # a run that succeeded before the failure (seen late, on a relist) resolves nothing
            incident.update(status="resolved", resolved_at=now)
            _save(key, _publish(incident, force=True))
            return "resolved"
        if incident is None or incident["status"] != "open":
            incident = {"service": f.service, "env": f.env, "reason": f.reason, "status": "open", "count": 0,
                        "cluster": f.cluster,
                        "first": now, "team": rt.rules.catalog.services[f.service].team, "severity": f.severity}
        incident["count"] += _occurrences(incident, f)
        incident["last"] = now
        incident["last_finding"] = f.to_dict()
        _save(key, _publish(incident))
    return "counted"


def sweep(quiet_seconds: float) -> list[str]:
    """Flush throttled edits; resolve pod incidents quiet for `quiet_seconds` whose pods are all ready."""
    rt = runtime.get()
    done = []
    for raw_key in rt.redis.scan_iter("dockyard:incident:*"):
        key = raw_key.decode()
        if key.endswith(":lock"):
            continue
        with rt.redis.lock(f"{key}:lock", timeout=60, blocking_timeout=30):
            incident = _load(key)
            if incident is None or incident["status"] != "open":
                continue
            quiet = time.time() - incident["last"] >= quiet_seconds
            # EndpointLoss ends when endpoints come back, JobFailed when a later run succeeds: never by quiet.
            if quiet and incident["reason"] not in ("EndpointLoss", "JobFailed") and \
                    _instances(incident["service"], incident["env"], incident.get("cluster", ""))[0] == 0:
                incident.update(status="resolved", resolved_at=time.time())
                _save(key, _publish(incident, force=True))
                done.append(key)
            elif incident.get("dirty") and not _muted(incident["service"]):
                _save(key, _publish(incident, force=True))
    held.flush()
    cutoff = int((time.time() - EVENTS_RETENTION) * 1000)
    for raw_key in rt.redis.scan_iter("dockyard:events:*"):
        rt.redis.xtrim(raw_key, minid=f"{cutoff}-0")
    return done
