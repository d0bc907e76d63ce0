"""Pure builders of the messages commands answer with."""

from __future__ import annotations

from bots.commands import REGISTRY
from bots.message import SEVERITY_ORDER, Message
from rules.models import Service


def help_message(topic: str | None) -> Message:
    """/help lists every command; /help <command> gives its usage."""
    if topic:
        verb = REGISTRY[topic]
        return Message(title=f"/{topic} — {verb.summary}", lines=(f"usage: {verb.usage}",))
    return Message(title="Dockyard commands", fields=tuple((f"/{v.name}", v.summary) for v in REGISTRY.values()),
                   footer="/help <command> shows its usage")


def error_message(text: str) -> Message:
    """A command that could not run: one line of reason, then the usage."""
    reason, _, usage = text.partition("\n")
    return Message(title=reason, severity="error", lines=(usage,) if usage else (), ephemeral=True)


def _track_line(env: str, track: str, summary: dict, router: str, stable_ready: int) -> str:
    line = f"{env} {track}: {summary['ready']}/{summary['desired']} ready, image {summary['image']}"
    weight = summary.get("annotations", {}).get("dockyard.dev/canary-weight")
    if track == "canary" and weight:
        if router == "replicas":
            total = stable_ready + summary["ready"]
            actual = round(100 * summary["ready"] / total) if total else 0
            line += f", weight {weight}% asked, {actual}% actual by replicas"
        else:
            line += f", weight {weight}% ({router})"
    return line


def status_message(name: str, service: Service, live: dict[str, dict | None], envs: list[str]) -> Message:
    """/status: what the catalog says, plus the cluster's view where there is one.

    `live` maps an environment to its stable Deployment's summary with its canary,
    preview and recent warnings (None when not deployed; no key when no cluster).
    """
    fields: list[tuple[str, str]] = [("team", service.team), ("language", service.language),
                                     ("git", service.git), ("router", service.router)]
    lines: list[str] = []
    severity = "info"
    for env in envs:
        spec = service.environments[env]
        approval = ", prod approval required" if spec.approval == "required" else ""
        fields.append((env, f"{spec.namespace}: {spec.replicas} × {spec.resources}{approval}"))
        if env not in live:
            continue
        summary = live[env]
        if summary is None:
            lines.append(f"{env}: not deployed yet (no Deployment {name} in {spec.namespace})")
            continue
        lines.append(f"{env}: {summary['ready']}/{summary['desired']} ready, {summary['updated']} updated, "
                     f"image {summary['image']}")
        for track in ("canary", "preview"):
            if summary.get(track):
                lines.append(_track_line(env, track, summary[track], service.router, summary["ready"]))
        lines += [f"{env} warning: {w}" for w in summary.get("warnings", [])]
        if summary["ready"] < summary["desired"] or summary.get("warnings"):
            severity = "warning"
    if not live:
        lines.append("no cluster configured: showing the catalog only")
    return Message(title=f"{name} status", severity=severity, fields=tuple(fields), lines=tuple(lines))  # type: ignore[arg-type]


def history_message(name: str, env: str, revisions: list) -> Message:
    """/history: revision, image tag, who, when and why, newest last."""
    if not revisions:
        return Message(title=f"{name} ({env}) has no rollout history yet")
    lines = tuple(f"#{r.number}  {r.image.rsplit(':', 1)[-1]}  {r.who or '?'}  {r.when or '?'}  {r.cause}"
                  + ("  ← current" if i == len(revisions) - 1 else "") for i, r in enumerate(revisions))
    return Message(title=f"{name} ({env}) history", lines=lines,
                   footer=f"/rollback {name} to <revision>" + (f" in {env}" if env != "test" else ""))


def logs_message(name: str, env: str, tail: int, per_pod: list[tuple[str, list[str]]]) -> Message:
    """/logs: the last lines of each pod."""
    if not per_pod:
        return Message(title=f"{name} ({env}) has no pods")
    lines: list[str] = []
    for pod, text in per_pod:
        lines.append(f"── {pod}")
        lines += text
    return Message(title=f"{name} ({env}) logs, last {tail} lines per pod", lines=tuple(lines))


def events_message(name: str, since_seconds: int, events: list[dict]) -> Message:
    """/events: the Warning events kept for a service, newest last."""
    span = f"{since_seconds // 3600}h" if since_seconds % 3600 == 0 else f"{since_seconds // 60}m"
    if not events:
        return Message(title=f"no warnings for {name} in the last {span}")
    lines = tuple(f"{(e.get('at') or '')[11:19]}  {e.get('env', '')}  {e['reason']}  {e.get('object', '')}: "
                  f"{e['message']}" for e in events[-50:])
    more = (f"{len(events) - 50} older not shown",) if len(events) > 50 else ()
    return Message(title=f"{name}: {len(events)} warning(s) in the last {span}", lines=more + lines)


def job_failed(what: str, attempts: int | None, reason: str, job_id: str) -> Message:
    """After the last retry: what failed, why, and how to run it again."""
    tries = f" after {attempts} attempts" if attempts else ""
    return Message(title=f"{what} failed{tries}", severity="error",
                   lines=(reason, f"job {job_id} is kept in the failed registry for 7 days; requeue it with "
                                  f"./dockyard jobs requeue {job_id}"))


def held_digest(held: list[Message]) -> Message:
    """What a channel's quiet hours held back, as one message at the most urgent severity among them."""
    return Message(title=f"{len(held)} message(s) held during quiet hours",
                   severity=max((m.severity for m in held), key=SEVERITY_ORDER.index),
                   lines=tuple(m.title for m in held))
