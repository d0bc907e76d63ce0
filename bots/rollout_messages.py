"""Pure builders of rollout messages: progress, success, failure and rollback."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, say
from bots.message import Button, Message
from core import durations
from state.plans import Plan


def _where(service: str, env: str, locale: str = DEFAULT_LOCALE) -> str:
    return f"{service}（{env}）" if locale == "zh-CN" else f"{service} ({env})"


def _in(env: str) -> str:
    return "" if env == "test" else f" in {env}"


def progress(service: str, env: str, what: str, summary: dict, locale: str = DEFAULT_LOCALE) -> Message:
    """The in-place progress line of a rollout."""
    desired = summary["desired"]
    bar = say(locale, "{updated}/{desired} updated, {ready}/{desired} ready", updated=summary["updated"],
              desired=desired, ready=summary["ready"])
    return Message(title=f"{_where(service, env, locale)}{'：' if locale == 'zh-CN' else ': '}{what}",
                   fields=((say(locale, "progress"), bar),),
                   footer=say(locale, "this message updates as the rollout moves"))


def done(service: str, env: str, what: str, summary: dict, seconds: float, lines: tuple[str, ...] = (),
         locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{where}: {what} — done in {seconds}s", where=_where(service, env, locale),
                             what=what, seconds=f"{seconds:.0f}"), severity="success",
                   fields=((say(locale, "replicas"), say(locale, "{ready}/{desired} ready", ready=summary["ready"],
                                                          desired=summary["desired"])),), lines=lines)


def rolled_back(service: str, env: str, what: str, reason: str, details: list[str], to: str,
                locale: str = DEFAULT_LOCALE) -> Message:
    """A rollout that did not converge and was undone automatically."""
    lines = (say(locale, "why: {detail}", detail=reason), *(say(locale, "not ready: {detail}", detail=d) for d in details),
             say(locale, "rolled back to {to}", to=to))
    return Message(title=say(locale, "{where}: {what} failed and was rolled back", where=_where(service, env, locale),
                             what=what), severity="error",
                   lines=lines, buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))


def failed(service: str, env: str, what: str, reason: str, details: list[str], after: str,
           locale: str = DEFAULT_LOCALE) -> Message:
    lines = (say(locale, "why: {detail}", detail=reason), *(say(locale, "not ready: {detail}", detail=d) for d in details),
             after)
    return Message(title=say(locale, "{where}: {what} failed", where=_where(service, env, locale), what=what),
                   severity="error", lines=lines)


def canary_live(service: str, env: str, image: str, split_text: str, seconds: float,
                locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{where}: canary live — {split}", where=_where(service, env, locale), split=split_text),
                   severity="success",
                   fields=((say(locale, "canary image"), image), (say(locale, "took"),
                                                                   say(locale, "{seconds}s", seconds=f"{seconds:.0f}"))),
                   lines=(f"next: /deploy {service} canary <N>%, /deploy {service} promote or /deploy {service} abort"
                          + (f" in {env}" if env != "test" else ""),),
                   buttons=(Button(say(locale, "Promote"), "promote", f"/deploy {service} promote{_in(env)}"),
                            Button(say(locale, "Abort"), "abort", f"/deploy {service} abort{_in(env)}")))


def aborted(service: str, env: str, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{service} ({env}): canary and preview removed; stable untouched",
                             service=service, env=env), severity="success",
                   fields=((say(locale, "traffic"), say(locale, "all to stable")),))


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
