"""Kubernetes objects → findings (pure), and the chat message a team wants for an incident (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from bots.message import Button, Message

POD_REASONS = ("OOMKilled", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull")
EVENT_REASONS = {"Unhealthy": "ProbeFailed", "FailedScheduling": "FailedScheduling"}


@dataclass(frozen=True)
class Finding:
    """One observation; `key` is unique per occurrence so a relist or a restart never counts it twice."""

    service: str
    env: str
    reason: str  # OOMKilled, CrashLoopBackOff, ImagePullBackOff, ProbeFailed, FailedScheduling, EndpointLoss
    key: str
    pod: str = ""
    node_ip: str = ""
    container: str = ""
    exit_code: int | None = None
    restarts: int = 0
    detail: str = ""
    severity: str = "warning"
    resolved: bool = False
    at: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def from_pod(pod: dict, service: str, env: str) -> list[Finding]:
    """OOMKilled, CrashLoopBackOff and image pull failures in a pod's container statuses."""
    meta, status = pod.get("metadata", {}), pod.get("status", {})
    out = []
    for cs in status.get("containerStatuses") or []:
        restarts = cs.get("restartCount") or 0
        last = (cs.get("lastState") or {}).get("terminated") or {}
        waiting = (cs.get("state") or {}).get("waiting") or {}
        common = dict(service=service, env=env, pod=meta.get("name", ""), node_ip=status.get("hostIP", ""),
                      container=cs.get("name", ""), restarts=restarts)
        if last.get("reason") == "OOMKilled":
            out.append(Finding(reason="OOMKilled", key=f"{meta.get('uid')}:{cs.get('name')}:oom:{restarts}",
                               exit_code=last.get("exitCode"), severity="critical", at=last.get("finishedAt", ""),
                               detail="the container used more memory than its limit", **common))
        elif waiting.get("reason") == "CrashLoopBackOff":
            out.append(Finding(reason="CrashLoopBackOff", key=f"{meta.get('uid')}:{cs.get('name')}:crash:{restarts}",
                               exit_code=last.get("exitCode"), severity="critical",
                               detail=waiting.get("message", ""), **common))
        elif waiting.get("reason") in ("ImagePullBackOff", "ErrImagePull"):
            out.append(Finding(reason="ImagePullBackOff", key=f"{meta.get('uid')}:{cs.get('name')}:pull",
                               detail=waiting.get("message", ""), **common))
    return out


def from_event(event: dict, service: str, env: str) -> Finding | None:
    """Failing probes and FailedScheduling from Warning events."""
    reason = EVENT_REASONS.get(event.get("reason", ""))
    if event.get("type") != "Warning" or reason is None:
        return None
    meta = event.get("metadata", {})
    return Finding(service=service, env=env, reason=reason, key=f"{meta.get('uid')}:{event.get('count') or 1}",
                   pod=(event.get("involvedObject") or {}).get("name", ""), detail=event.get("message", ""),
                   at=event.get("lastTimestamp") or event.get("eventTime") or "")


def endpoint_state(ready: int, minimum: int) -> str:
    """ok, warning (below the service's minimum) or critical (no ready endpoint at all)."""
    if ready == 0:
        return "critical"
    return "warning" if ready < minimum else "ok"


def _ago(start: float, now: float) -> str:
    minutes = max(0, int((now - start) // 60))
    return f"{minutes} min" if minutes else "under a minute"


def incident_message(incident: dict, unhealthy: int, total: int, events: list[str], logs: list[str],
                     now: float) -> Message:
    """The CVTE format: app, team, unhealthy/total, node, container, exit code and reason, restarts, time."""
    reason, service, env = incident["reason"], incident["service"], incident["env"]
    in_env = "" if env == "test" else f" in {env}"
    if incident.get("status") == "resolved":
        return Message(title=f"RESOLVED {service} ({env}): {reason}", severity="success",
                       fields=(("app", service), ("team", incident["team"]), ("lasted", _ago(
                           incident["first"], incident["resolved_at"]))),
                       lines=(f"{reason} ×{incident['count']}, healthy since "
                              f"{datetime.fromtimestamp(incident['resolved_at'], timezone.utc):%H:%M:%S} UTC",))
    count = f" ×{incident['count']} in {_ago(incident['first'], now)}" if incident["count"] > 1 else ""
    title = f"{service} ({env}): {reason}{count}, {unhealthy}/{total} instances unhealthy"
    last = incident["last_finding"]
    fields = [("app", service), ("team", incident["team"]), ("instances", f"{unhealthy}/{total} unhealthy")]
    fields += [(k, str(v)) for k, v in (("pod", last.get("pod")), ("node", last.get("node_ip")),
                                        ("container", last.get("container")),
                                        ("exit code", last.get("exit_code")),
                                        ("restarts", last.get("restarts") or None),
                                        ("time", last.get("at"))) if v not in (None, "", 0)]
    lines = [f"why: {last['detail']}"] if last.get("detail") else []
    lines += [f"event: {e}" for e in events[-3:]] + [f"log: {line}" for line in logs[-5:]]
    severity = "critical" if incident.get("severity") == "critical" else "warning"
    buttons = (Button("Rollback", "rollback", f"/rollback {service}{in_env}"),
               Button("Restart", "restart", f"/restart {service}{in_env}"),
               Button("Silence 1h", "silence", f"/silence {service} 1h"),
               Button("Events", "events", f"/events {service} --since 1h"))
    return Message(title=title, severity=severity, fields=tuple(fields), lines=tuple(lines),  # type: ignore[arg-type]
                   buttons=buttons)
