"""Pure builders of the messages of a rollout across several clusters: one message, a line per cluster."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, moment, phrase, say
from bots.message import Button, Message


def _in(env: str) -> str:
    return "" if env == "test" else f" in {env}"


def _where(service: str, env: str, locale: str) -> str:
    return f"{service}（{env}）" if locale == "zh-CN" else f"{service} ({env})"


def _line(summary: dict, locale: str = DEFAULT_LOCALE) -> str:
    desired = summary["desired"]
    return say(locale, "{updated}/{desired} updated, {ready}/{desired} ready", updated=summary["updated"],
               desired=desired, ready=summary["ready"])


def _total(states: dict[str, dict], locale: str = DEFAULT_LOCALE) -> str:
    ready = sum(s["ready"] for s in states.values())
    desired = sum(s["desired"] for s in states.values())
    return say(locale, "{ready}/{desired} ready on {count} clusters", ready=ready, desired=desired, count=len(states))


def _ready(s: dict, locale: str) -> str:
    return say(locale, "{ready}/{desired} ready", ready=s["ready"], desired=s["desired"])


def progress(service: str, env: str, what: str, states: dict[str, dict], locale: str = DEFAULT_LOCALE) -> Message:
    """The in-place progress of a rollout on every cluster of the environment."""
    fields = tuple((cluster, _line(s, locale)) for cluster, s in states.items()) + \
        ((say(locale, "total"), _total(states, locale)),)
    return Message(title=say(locale, "{where}: {what}", where=_where(service, env, locale), what=phrase(locale, what)),
                   fields=fields, footer=say(locale, "this message updates as the rollout moves on each cluster"))


def done(service: str, env: str, what: str, states: dict[str, dict], seconds: float,
         locale: str = DEFAULT_LOCALE) -> Message:
    fields = tuple((cluster, _ready(s, locale)) for cluster, s in states.items())
    return Message(title=say(locale, "{where}: {what} — done on {count} clusters in {seconds}s",
                             where=_where(service, env, locale), what=phrase(locale, what), count=len(states),
                             seconds=f"{seconds:.0f}"),
                   severity="success", fields=fields + ((say(locale, "total"), _total(states, locale)),))


def _failure_lines(failures: dict[str, tuple[str, list[str]]], locale: str) -> list[str]:
    lines: list[str] = []
    for cluster, (reason, details) in failures.items():
        lines.append(say(locale, "{cluster} failed: {reason}", cluster=cluster, reason=reason))
        lines += [say(locale, "{cluster} not ready: {detail}", cluster=cluster, detail=d) for d in details[:5]]
    return lines


def failed(service: str, env: str, what: str, failures: dict[str, tuple[str, list[str]]],
           undone: dict[str, str], held: list[str], locale: str = DEFAULT_LOCALE) -> Message:
    """Which cluster failed and why, and what became of every cluster.

    `undone` maps a cluster to the revision it went back to (or why it could not); `held` lists the
    clusters left on the new version because the catalog says `on_failure: hold`.
    """
    names = ", ".join(failures)
    lines = _failure_lines(failures, locale)
    lines += [say(locale, "{cluster}: rolled back to {to}", cluster=cluster, to=to) for cluster, to in undone.items()]
    lines += [say(locale, "{cluster}: held on the new version (on_failure: hold); {command} undoes it", cluster=cluster,
                  command=f"/rollback {service}{_in(env)}") for cluster in held]
    outcome = say(locale, "rolled back" if undone and not held else "held elsewhere" if held else "not rolled back")
    return Message(title=say(locale, "{where}: {what} failed on {clusters}; {outcome}",
                             where=_where(service, env, locale), what=phrase(locale, what), clusters=names,
                             outcome=outcome), severity="error",
                   lines=tuple(lines), buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))


def each_done(service: str, env: str, what: str, results: dict[str, str], seconds: float,
              buttons: tuple[Button, ...] = (), locale: str = DEFAULT_LOCALE) -> Message:
    """A change made on every cluster: what each cluster now says (its split, its replicas)."""
    return Message(title=say(locale, "{where}: {what} — done on {count} clusters in {seconds}s",
                             where=_where(service, env, locale), what=phrase(locale, what), count=len(results),
                             seconds=f"{seconds:.0f}"),
                   severity="success", fields=tuple(results.items()), buttons=buttons)


def each_failed(service: str, env: str, what: str, failures: dict[str, tuple[str, list[str]]], after: str,
                locale: str = DEFAULT_LOCALE) -> Message:
    """A change that failed on some cluster: which, why, and what was done about it everywhere."""
    return Message(title=say(locale, "{where}: {what} failed on {clusters}", where=_where(service, env, locale),
                             what=phrase(locale, what), clusters=", ".join(failures)), severity="error",
                   lines=(*_failure_lines(failures, locale), say(locale, after)),
                   buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))


def canary_buttons(service: str, env: str, locale: str = DEFAULT_LOCALE) -> tuple[Button, ...]:
    return (Button(say(locale, "Promote"), "promote", f"/deploy {service} promote{_in(env)}"),
            Button(say(locale, "Abort"), "abort", f"/deploy {service} abort{_in(env)}"))


def unreachable(service: str, env: str, down: dict[str, str]) -> str:
    """Why a change does not start: the clusters that do not answer (a PermanentError's text)."""
    which = "; ".join(f"cluster {name}: {why}" for name, why in down.items())
    return (f"not starting on {service} ({env}): {which}. Nothing was changed on any cluster; "
            f"try again when it answers (./dockyard cluster status, or the cluster's own health)")


def cluster_incident(cluster: str, labels: dict[str, str], state: str, detail: str, since: str,
                     locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """A cluster that stopped answering or has NotReady nodes; the same message turns green when it recovers.

    `since` is when it began (epoch seconds or ISO), shown dated in `zone`."""
    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    fields = ((say(locale, "cluster"), cluster),) + (((say(locale, "labels"), where),) if where else ()) + \
        ((say(locale, "since"), moment(since, zone)),)
    if state == "ok":
        return Message(title=say(locale, "RESOLVED cluster {cluster}: healthy again", cluster=cluster),
                       severity="success", fields=fields,
                       lines=(say(locale, "its API answers and every node is Ready"),))
    if state == "unreachable":
        return Message(title=say(locale, "cluster {cluster}: API unreachable", cluster=cluster), severity="critical",
                       fields=fields,
                       lines=(say(locale, "why: {detail}", detail=detail),
                              say(locale, "rollouts to environments on this cluster are refused until it answers; "
                                          "the other clusters keep working")))
    return Message(title=say(locale, "cluster {cluster}: nodes not Ready", cluster=cluster), severity="critical",
                   fields=fields, lines=(say(locale, "not ready: {detail}", detail=detail),
                                         say(locale, "pods there may be evicted or stop getting traffic")))


def autoscaled(service: str, env: str, low: int, high: int, goals: str, ranges: dict[str, tuple[int, int]],
               catalog: str, locale: str = DEFAULT_LOCALE) -> Message:
    """/autoscale on a split environment: the range asked for, and each cluster's share of it."""
    least, most = sum(lo for lo, _ in ranges.values()), sum(hi for _, hi in ranges.values())
    lines = [say(locale, "each cluster keeps at least 1 replica, so the minimum is {total} in all", total=least)] \
        if least > low else []
    if most > high:  # each cluster's max is at least its min: the clusters together may run more than asked
        lines.append(say(locale, "each cluster's maximum is at least its minimum, so up to {total} in all",
                         total=most))
    lines += [say(locale, "the HPA needs the metrics API (metrics-server, or an adapter for custom metrics) to act"),
              say(locale, "deploys keep it until the catalog's autoscale for {env} changes (it says: {catalog})",
                  env=env, catalog=catalog)]
    return Message(title=say(locale, "{service} ({env}): autoscaling {low}–{high} replicas at {goals} on {count} "
                                     "clusters", service=service, env=env, low=low, high=high, goals=goals,
                             count=len(ranges)),
                   severity="success", fields=tuple((cluster, f"{lo}–{hi}") for cluster, (lo, hi) in ranges.items()),
                   lines=tuple(lines))


def autoscale_off(service: str, env: str, removed: dict[str, bool], catalog: str | None,
                  locale: str = DEFAULT_LOCALE) -> Message:
    """/autoscale off: which clusters had an HPA, and whether the next deploy brings the catalog's back."""
    several = len(removed) > 1
    said = {cluster: say(locale, "HPA removed; the replicas stay where it left them") if gone
            else say(locale, "had no HPA") for cluster, gone in removed.items()}
    lines = [] if several else list(said.values())
    if catalog:
        lines.append(say(locale, "the catalog says autoscale {catalog} for {env}: the next deploy applies it again; "
                                 "remove autoscale: there to keep it off", catalog=catalog, env=env))
    where = say(locale, " on {count} clusters", count=len(removed)) if several else ""
    return Message(title=say(locale, "{service} ({env}): autoscaling off{where}", service=service, env=env,
                             where=where),
                   severity="success", fields=tuple(said.items()) if several else (), lines=tuple(lines))


def autoscale_failed(service: str, env: str, what: str, failures: dict[str, str], undone: dict[str, str],
                     held: list[str], stuck: dict[str, str] | None = None, locale: str = DEFAULT_LOCALE) -> Message:
    """/autoscale refused on some cluster: which and why, and what became of every other cluster.

    `undone` maps a cluster to the HPA it was put back to ('2–10', 'no HPA'); `held` lists the clusters
    that keep the change because the catalog says `on_failure: hold`; `stuck` the clusters that could
    not be put back, with why."""
    lines = [say(locale, "{cluster} failed: {reason}", cluster=c, reason=why) for c, why in failures.items()]
    lines += [say(locale, "{cluster}: put back to {hpa}", cluster=c, hpa=hpa) for c, hpa in undone.items()]
    lines += [say(locale, "{cluster}: keeps the change (on_failure: hold)", cluster=c) for c in held]
    lines += [say(locale, "{cluster}: could not be put back ({reason}); check /status", cluster=c, reason=why)
              for c, why in (stuck or {}).items()]
    return Message(title=say(locale, "{service} ({env}): {what} failed on {clusters}", service=service, env=env,
                             what=phrase(locale, what), clusters=", ".join(failures)),
                   severity="error", lines=tuple(lines),
                   buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))
