"""The chat message a team wants for an incident, in the channel's language and time zone. Pure."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Button, Message


def _ago(start: float, now: float, locale: str) -> str:
    minutes = max(0, int((now - start) // 60))
    return say(locale, "{minutes} min", minutes=minutes) if minutes else say(locale, "under a minute")


def _exit(last: dict, locale: str) -> str | None:
    """'ExitCode 137, reason OOMKilled' (the seed's 容器退出 line); None when the container did not exit."""
    if last.get("exit_code") in (None, ""):
        return None
    return say(locale, "ExitCode {code}, reason {reason}", code=last["exit_code"],
               reason=last.get("exit_reason") or last.get("reason") or "?")


def _buttons(service: str, env: str, first: tuple[str, str], locale: str) -> tuple[Button, ...]:
    """The two actions `first` names (rollback+restart, or status+logs), then Silence 1h and Events.

    Labels are translated; the commands they stand for stay the grammar's own words.
    """
    in_env = "" if env == "test" else f" in {env}"
    commands = {"Rollback": f"/rollback {service}{in_env}", "Restart": f"/restart {service}{in_env}",
                "Status": f"/status {service}{in_env}", "Logs": f"/logs {service}{in_env}",
                "Silence 1h": f"/silence {service} 1h", "Events": f"/events {service} --since 1h"}
    labels = (*first, "Silence 1h", "Events")
    kinds = {"Silence 1h": "silence"}
    return tuple(Button(say(locale, label), kinds.get(label, label.lower()), commands[label]) for label in labels)


def incident_message(incident: dict, unhealthy: int, total: int, events: list[str], logs: list[str],
                     now: float, locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """The seed teams' order (seeds/004): app, project, unhealthy / total instances, node IP, container
    exit code and reason, time; then pod, container and restarts. Times are dated, in `zone`."""
    reason, service, env = incident["reason"], incident["service"], incident["env"]
    if incident.get("status") == "resolved":
        healthy = moment(incident["resolved_at"], zone)
        return Message(title=say(locale, "RESOLVED {service} ({env}): {reason}", service=service, env=env,
                                 reason=reason), severity="success",
                       fields=((say(locale, "app"), service), (say(locale, "project"), incident["team"]),
                               (say(locale, "lasted"), _ago(incident["first"], incident["resolved_at"], locale))),
                       lines=(say(locale, "{reason} ×{count}, healthy since {time}", reason=reason,
                                  count=incident["count"], time=healthy),))
    count = say(locale, " ×{count} in {ago}", count=incident["count"], ago=_ago(incident["first"], now, locale)) \
        if incident["count"] > 1 else ""
    last = incident["last_finding"]
    if reason == "JobFailed":
        return _run_failed(incident, count, events, logs, locale, zone)
    on = say(locale, " on {cluster}", cluster=incident["cluster"]) if incident.get("cluster") else ""
    title = say(locale, "{service} ({env}): {reason}{count}{on}, {unhealthy}/{total} instances unhealthy",
                service=service, env=env, reason=reason, count=count, on=on, unhealthy=unhealthy, total=total)
    ordered = (("app", service), ("project", incident["team"]), ("cluster", incident.get("cluster")),
               ("unhealthy instances", unhealthy), ("total instances", total), ("node IP", last.get("node_ip")),
               ("container exit", _exit(last, locale)),
               ("time", moment(last.get("at") or incident.get("last"), zone)),
               ("pod", last.get("pod")), ("container", last.get("container")), ("restarts", last.get("restarts") or None))
    fields = tuple((say(locale, k), str(v)) for k, v in ordered if v not in (None, ""))
    lines = [say(locale, "why: {detail}", detail=last["detail"])] if last.get("detail") else []
    lines += [say(locale, "event: {event}", event=e) for e in events[-3:]]
    lines += [say(locale, "log: {line}", line=line) for line in logs[-5:]]
    severity = "critical" if incident.get("severity") == "critical" else "warning"
    buttons = _buttons(service, env, ("Rollback", "Restart"), locale)
    return Message(title=title, severity=severity, fields=fields, lines=tuple(lines),  # type: ignore[arg-type]
                   buttons=buttons)


def _run_failed(incident: dict, count: str, events: list[str], logs: list[str], locale: str, zone: str) -> Message:
    """A scheduled job's run failed: which run, its pod and exit code, why; resolved by a later run that succeeds."""
    service, env, last = incident["service"], incident["env"], incident["last_finding"]
    ordered = (("app", service), ("project", incident["team"]), ("run", last.get("run")),
               ("node IP", last.get("node_ip")), ("container exit", _exit(last, locale)),
               ("time", moment(last.get("at"), zone)), ("pod", last.get("pod")), ("container", last.get("container")))
    fields = tuple((say(locale, k), str(v)) for k, v in ordered if v not in (None, ""))
    lines = [say(locale, "why: {detail}", detail=last["detail"])] if last.get("detail") else []
    lines += [say(locale, "event: {event}", event=e) for e in events[-3:]]
    lines += [say(locale, "log: {line}", line=line) for line in logs[-5:]]
    lines.append(say(locale, "this message is marked resolved when a later run succeeds"))
    return Message(title=say(locale, "{service} ({env}): JobFailed{count}, run {run} failed", service=service,
                             env=env, count=count, run=last.get("run", "?")),
                   severity="critical" if incident.get("severity") == "critical" else "warning",
                   fields=fields, lines=tuple(lines),
                   buttons=_buttons(service, env, ("Status", "Logs"), locale))
