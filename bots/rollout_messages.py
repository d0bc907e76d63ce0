"""Pure builders of rollout messages: progress, success, failure and rollback."""

from __future__ import annotations

from bots.message import Button, Message
from core import durations
from state.plans import Plan


def _where(service: str, env: str) -> str:
    return f"{service} ({env})"


def _in(env: str) -> str:
    return "" if env == "test" else f" in {env}"


def progress(service: str, env: str, what: str, summary: dict) -> Message:
    """The in-place progress line of a rollout."""
    desired = summary["desired"]
    bar = f"{summary['updated']}/{desired} updated, {summary['ready']}/{desired} ready"
    return Message(title=f"{_where(service, env)}: {what}", fields=(("progress", bar),),
                   footer="this message updates as the rollout moves")


def done(service: str, env: str, what: str, summary: dict, seconds: float, lines: tuple[str, ...] = ()) -> Message:
    return Message(title=f"{_where(service, env)}: {what} — done in {seconds:.0f}s", severity="success",
                   fields=(("replicas", f"{summary['ready']}/{summary['desired']} ready"),), lines=lines)


def rolled_back(service: str, env: str, what: str, reason: str, details: list[str], to: str) -> Message:
    """A rollout that did not converge and was undone automatically."""
    lines = (f"why: {reason}", *(f"not ready: {d}" for d in details), f"rolled back to {to}")
    return Message(title=f"{_where(service, env)}: {what} failed and was rolled back", severity="error",
                   lines=lines, buttons=(Button("Status", "status", f"/status {service}{_in(env)}"),))


def failed(service: str, env: str, what: str, reason: str, details: list[str], after: str) -> Message:
    lines = (f"why: {reason}", *(f"not ready: {d}" for d in details), after)
    return Message(title=f"{_where(service, env)}: {what} failed", severity="error", lines=lines)


def canary_live(service: str, env: str, image: str, split_text: str, seconds: float) -> Message:
    return Message(title=f"{_where(service, env)}: canary live — {split_text}", severity="success",
                   fields=(("canary image", image), ("took", f"{seconds:.0f}s")),
                   lines=(f"next: /deploy {service} canary <N>%, /deploy {service} promote or /deploy {service} abort"
                          + (f" in {env}" if env != "test" else ""),),
                   buttons=(Button("Promote", "promote", f"/deploy {service} promote{_in(env)}"),
                            Button("Abort", "abort", f"/deploy {service} abort{_in(env)}")))


def aborted(service: str, env: str) -> Message:
    return Message(title=f"{service} ({env}): canary and preview removed; stable untouched", severity="success",
                   fields=(("traffic", "all to stable"),))


def autoscaling(service: str, env: str, low: int, high: int, goals: str, catalog: str) -> Message:
    """/autoscale done: the range and what it follows, and how long it stands against the catalog."""
    return Message(title=f"{service} ({env}): autoscaling {low}–{high} replicas at {goals}",
                   severity="success", lines=("the HPA needs the metrics API (metrics-server, or an adapter for "
                                              "custom metrics) to act",
                                              f"deploys keep it until the catalog's autoscale for {env} changes "
                                              f"(it says: {catalog})"))


def plan(p: Plan, failure_limit: int) -> Message:
    """One message per canary plan, edited in place at every step and every reading."""
    path = " → ".join(f"{w}%" for w in p.steps)
    state = {"running": f"step {p.index + 1}/{len(p.steps)}, {p.steps[p.index]}% live",
             "paused": f"paused at {p.steps[p.index]}%", "promoted": "promoted to stable",
             "aborted": "aborted: all traffic back to stable"}[p.status]
    severity = {"running": "info", "paused": "warning", "promoted": "success", "aborted": "error"}[p.status]
    readings = tuple(f"{r['name']}: {'no data' if r['value'] is None else format(r['value'], '.4g')} "
                     f"(wants {r['bound']}) {'ok' if r['ok'] else 'FAILED'}" + (f" — {r['note']}" if r['note'] else "")
                     for r in p.readings)
    fields = (("plan", f"{path}, every {durations.human(p.every_seconds)}"),
              ("analysis failures in a row", f"{p.failures}/{failure_limit}"))
    buttons: tuple[Button, ...] = ()
    if p.status in ("running", "paused"):
        toggle = "resume" if p.status == "paused" else "pause"
        buttons = (Button(toggle.title(), toggle, f"/deploy {p.service} {toggle}{_in(p.env)}"),
                   Button("Promote", "promote", f"/deploy {p.service} promote{_in(p.env)}"),
                   Button("Abort", "abort", f"/deploy {p.service} abort{_in(p.env)}"))
    return Message(title=f"{_where(p.service, p.env)}: canary plan — {state}", severity=severity,  # type: ignore[arg-type]
                   fields=fields, lines=readings + tuple(p.history[-6:]), buttons=buttons)


def cron_job_set(service: str, env: str, image: str, schedule: str, concurrency: str) -> Message:
    """A scheduled job's CronJob now runs `image`: from its next run on, not now."""
    return Message(title=f"{_where(service, env)}: scheduled job set to {image.rsplit(':', 1)[-1]}", severity="success",
                   fields=(("image", image), ("schedule", f"{schedule} (UTC)"), ("overlapping runs", concurrency)),
                   lines=("the next run uses it; a run already going finishes with the image it started with",),
                   buttons=(Button("Status", "status", f"/status {service}{_in(env)}"),))


def stale(service: str, env: str, kind: str, age_seconds: float, who: str) -> Message:
    """A canary or preview nobody finished: one seed team broke production with a forgotten small-traffic one."""
    hours = age_seconds / 3600
    age = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"
    return Message(title=f"{_where(service, env)}: a {kind} has been live for {age}: promote or abort it",
                   severity="warning", fields=(("started by", who),),
                   buttons=(Button("Promote", "promote", f"/deploy {service} promote{_in(env)}"),
                            Button("Abort", "abort", f"/deploy {service} abort{_in(env)}")))
