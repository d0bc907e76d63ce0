"""Pure builders of rollout messages: progress, success, failure and rollback."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, phrase, say
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
    return Message(title=f"{_where(service, env, locale)}{'：' if locale == 'zh-CN' else ': '}{phrase(locale, what)}",
                   fields=((say(locale, "progress"), bar),),
                   footer=say(locale, "this message updates as the rollout moves"))


def done(service: str, env: str, what: str, summary: dict, seconds: float, lines: tuple[str, ...] = (),
         locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{where}: {what} — done in {seconds}s", where=_where(service, env, locale),
                             what=phrase(locale, what), seconds=f"{seconds:.0f}"), severity="success",
                   fields=((say(locale, "replicas"), say(locale, "{ready}/{desired} ready", ready=summary["ready"],
                                                          desired=summary["desired"])),), lines=lines)


def rolled_back(service: str, env: str, what: str, reason: str, details: list[str], to: str,
                locale: str = DEFAULT_LOCALE) -> Message:
    """A rollout that did not converge and was undone automatically."""
    lines = (say(locale, "why: {detail}", detail=reason), *(say(locale, "not ready: {detail}", detail=d) for d in details),
             say(locale, "rolled back to {to}", to=to))
    return Message(title=say(locale, "{where}: {what} failed and was rolled back", where=_where(service, env, locale),
                             what=phrase(locale, what)), severity="error",
                   lines=lines, buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))


def failed(service: str, env: str, what: str, reason: str, details: list[str], after: str,
           locale: str = DEFAULT_LOCALE) -> Message:
    lines = (say(locale, "why: {detail}", detail=reason), *(say(locale, "not ready: {detail}", detail=d) for d in details),
             say(locale, after))  # the job's fixed words read in the locale; a line naming a service stays as it came
    return Message(title=say(locale, "{where}: {what} failed", where=_where(service, env, locale),
                             what=phrase(locale, what)),
                   severity="error", lines=lines)


def canary_live(service: str, env: str, image: str, split_text: str, seconds: float,
                locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{where}: canary live — {split}", where=_where(service, env, locale), split=split_text),
                   severity="success",
                   fields=((say(locale, "canary image"), image), (say(locale, "took"),
                                                                   say(locale, "{seconds}s", seconds=f"{seconds:.0f}"))),
                   lines=(say(locale, "next: {weight}, {promote} or {abort}",
                              weight=f"/deploy {service} canary <N>%", promote=f"/deploy {service} promote",
                              abort=f"/deploy {service} abort{_in(env)}"),),
                   buttons=(Button(say(locale, "Promote"), "promote", f"/deploy {service} promote{_in(env)}"),
                            Button(say(locale, "Abort"), "abort", f"/deploy {service} abort{_in(env)}")))


def aborted(service: str, env: str, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{service} ({env}): canary and preview removed; stable untouched",
                             service=service, env=env), severity="success",
                   fields=((say(locale, "traffic"), say(locale, "all to stable")),))


def autoscaling(service: str, env: str, low: int, high: int, goals: str, catalog: str,
                locale: str = DEFAULT_LOCALE) -> Message:
    """/autoscale done: the range and what it follows, and how long it stands against the catalog."""
    return Message(title=say(locale, "{service} ({env}): autoscaling {low}–{high} replicas at {goals}",
                             service=service, env=env, low=low, high=high, goals=goals),
                   severity="success",
                   lines=(say(locale, "the HPA needs the metrics API (metrics-server, or an adapter for custom metrics) "
                                      "to act"),
                          say(locale, "deploys keep it until the catalog's autoscale for {env} changes (it says: "
                                      "{catalog})", env=env, catalog=catalog)))


def _reading(r: dict, locale: str) -> str:
    value = say(locale, "no data") if r["value"] is None else format(r["value"], ".4g")
    verdict = say(locale, "ok") if r["ok"] else say(locale, "FAILED")
    return say(locale, "{name}: {value} (wants {bound}) {verdict}", name=r["name"], value=value, bound=r["bound"],
               verdict=verdict) + (f" — {r['note']}" if r["note"] else "")


def plan(p: Plan, failure_limit: int, locale: str = DEFAULT_LOCALE) -> Message:
    """One message per canary plan, edited in place at every step and every reading.

    Its history is kept in English (state/plans.py); each line is read in the channel's language here."""
    path = " → ".join(f"{w}%" for w in p.steps)
    state = {"running": lambda: say(locale, "step {step}/{steps}, {weight}% live", step=p.index + 1,
                                    steps=len(p.steps), weight=p.steps[p.index]),
             "paused": lambda: say(locale, "paused at {weight}%", weight=p.steps[p.index]),
             "promoted": lambda: say(locale, "promoted to stable"),
             "aborted": lambda: say(locale, "aborted: all traffic back to stable")}[p.status]()
    severity = {"running": "info", "paused": "warning", "promoted": "success", "aborted": "error"}[p.status]
    readings = tuple(_reading(r, locale) for r in p.readings)
    fields = ((say(locale, "plan"), say(locale, "{path}, every {every}", path=path,
                                        every=durations.human(p.every_seconds))),
              (say(locale, "analysis failures in a row"), f"{p.failures}/{failure_limit}"))
    buttons: tuple[Button, ...] = ()
    if p.status in ("running", "paused"):
        toggle = "resume" if p.status == "paused" else "pause"
        buttons = (Button(say(locale, toggle.title()), toggle, f"/deploy {p.service} {toggle}{_in(p.env)}"),
                   Button(say(locale, "Promote"), "promote", f"/deploy {p.service} promote{_in(p.env)}"),
                   Button(say(locale, "Abort"), "abort", f"/deploy {p.service} abort{_in(p.env)}"))
    return Message(title=say(locale, "{where}: canary plan — {state}", where=_where(p.service, p.env, locale),
                             state=state), severity=severity,  # type: ignore[arg-type]
                   fields=fields, lines=readings + tuple(phrase(locale, line) for line in p.history[-6:]),
                   buttons=buttons)


def cron_job_set(service: str, env: str, image: str, schedule: str, concurrency: str,
                 locale: str = DEFAULT_LOCALE) -> Message:
    """A scheduled job's CronJob now runs `image`: from its next run on, not now."""
    return Message(title=say(locale, "{where}: scheduled job set to {tag}", where=_where(service, env, locale),
                             tag=image.rsplit(":", 1)[-1]), severity="success",
                   fields=((say(locale, "image"), image), (say(locale, "schedule"), f"{schedule} (UTC)"),
                           (say(locale, "overlapping runs"), concurrency)),
                   lines=(say(locale, "the next run uses it; a run already going finishes with the image it started "
                                      "with"),),
                   buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))


def stale(service: str, env: str, kind: str, age_seconds: float, who: str, locale: str = DEFAULT_LOCALE) -> Message:
    """A canary or preview nobody finished: one seed team broke production with a forgotten small-traffic one."""
    hours = age_seconds / 3600
    age = say(locale, "{days} days", days=f"{hours / 24:.1f}") if hours >= 48 else \
        say(locale, "{hours} hours", hours=f"{hours:.0f}")
    return Message(title=say(locale, "{where}: a {kind} has been live for {age}: promote or abort it",
                             where=_where(service, env, locale), kind=say(locale, kind), age=age),
                   severity="warning", fields=((say(locale, "started by"), who),),
                   buttons=(Button(say(locale, "Promote"), "promote", f"/deploy {service} promote{_in(env)}"),
                            Button(say(locale, "Abort"), "abort", f"/deploy {service} abort{_in(env)}")))
