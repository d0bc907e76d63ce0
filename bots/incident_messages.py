"""The chat message a team wants for an incident. Pure."""

from __future__ import annotations

from datetime import datetime, timezone

from bots.message import Button, Message


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
    last = incident["last_finding"]
    if reason == "JobFailed":
        return _run_failed(incident, count, events, logs)
    on = f" on {incident['cluster']}" if incident.get("cluster") else ""
    title = f"{service} ({env}): {reason}{count}{on}, {unhealthy}/{total} instances unhealthy"
    fields = [("app", service), ("team", incident["team"])] + ([("cluster", incident["cluster"])]
                                                                 if incident.get("cluster") else [])
    fields.append(("instances", f"{unhealthy}/{total} unhealthy"))
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


def _run_failed(incident: dict, count: str, events: list[str], logs: list[str]) -> Message:
    """A scheduled job's run failed: which run, its pod and exit code, why; resolved by a later run that succeeds."""
    service, env, last = incident["service"], incident["env"], incident["last_finding"]
    in_env = "" if env == "test" else f" in {env}"
    fields = [("app", service), ("team", incident["team"])]
    fields += [(k, str(v)) for k, v in (("run", last.get("run")), ("pod", last.get("pod")),
                                        ("node", last.get("node_ip")), ("container", last.get("container")),
                                        ("exit code", last.get("exit_code")), ("time", last.get("at")))
               if v not in (None, "")]
    lines = [f"why: {last['detail']}"] if last.get("detail") else []
    lines += [f"event: {e}" for e in events[-3:]] + [f"log: {line}" for line in logs[-5:]]
    lines.append("this message is marked resolved when a later run succeeds")
    return Message(title=f"{service} ({env}): JobFailed{count}, run {last.get('run', '?')} failed",
                   severity="critical" if incident.get("severity") == "critical" else "warning",
                   fields=tuple(fields), lines=tuple(lines),
                   buttons=(Button("Status", "status", f"/status {service}{in_env}"),
                            Button("Logs", "logs", f"/logs {service}{in_env}"),
                            Button("Silence 1h", "silence", f"/silence {service} 1h"),
                            Button("Events", "events", f"/events {service} --since 1h")))
