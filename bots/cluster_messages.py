"""Pure builders of the messages of a rollout across several clusters: one message, a line per cluster."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, say
from bots.message import Button, Message


def _in(env: str) -> str:
    return "" if env == "test" else f" in {env}"


def _line(summary: dict) -> str:
    desired = summary["desired"]
    return f"{summary['updated']}/{desired} updated, {summary['ready']}/{desired} ready"


def _total(states: dict[str, dict]) -> str:
    ready = sum(s["ready"] for s in states.values())
    desired = sum(s["desired"] for s in states.values())
    return f"{ready}/{desired} ready on {len(states)} clusters"


def progress(service: str, env: str, what: str, states: dict[str, dict]) -> Message:
    """The in-place progress of a rollout on every cluster of the environment."""
    fields = tuple((cluster, _line(s)) for cluster, s in states.items()) + (("total", _total(states)),)
    return Message(title=f"{service} ({env}): {what}", fields=fields,
                   footer="this message updates as the rollout moves on each cluster")


def done(service: str, env: str, what: str, states: dict[str, dict], seconds: float) -> Message:
    fields = tuple((cluster, f"{s['ready']}/{s['desired']} ready") for cluster, s in states.items())
    return Message(title=f"{service} ({env}): {what} — done on {len(states)} clusters in {seconds:.0f}s",
                   severity="success", fields=fields + (("total", _total(states)),))


def failed(service: str, env: str, what: str, failures: dict[str, tuple[str, list[str]]],
           undone: dict[str, str], held: list[str]) -> Message:
    """Which cluster failed and why, and what became of every cluster.

    `undone` maps a cluster to the revision it went back to (or why it could not); `held` lists the
    clusters left on the new version because the catalog says `on_failure: hold`.
    """
    names = ", ".join(failures)
    lines: list[str] = []
    for cluster, (reason, details) in failures.items():
        lines.append(f"{cluster} failed: {reason}")
        lines += [f"{cluster} not ready: {d}" for d in details[:5]]
    lines += [f"{cluster}: rolled back to {to}" for cluster, to in undone.items()]
    lines += [f"{cluster}: held on the new version (on_failure: hold); /rollback {service}{_in(env)} undoes it"
              for cluster in held]
    outcome = "rolled back" if undone and not held else "held elsewhere" if held else "not rolled back"
    return Message(title=f"{service} ({env}): {what} failed on {names}; {outcome}", severity="error",
                   lines=tuple(lines), buttons=(Button("Status", "status", f"/status {service}{_in(env)}"),))


def each_done(service: str, env: str, what: str, results: dict[str, str], seconds: float,
              buttons: tuple[Button, ...] = ()) -> Message:
    """A change made on every cluster: what each cluster now says (its split, its replicas)."""
    return Message(title=f"{service} ({env}): {what} — done on {len(results)} clusters in {seconds:.0f}s",
                   severity="success", fields=tuple(results.items()), buttons=buttons)


def each_failed(service: str, env: str, what: str, failures: dict[str, tuple[str, list[str]]], after: str) -> Message:
    """A change that failed on some cluster: which, why, and what was done about it everywhere."""
    lines: list[str] = []
    for cluster, (reason, details) in failures.items():
        lines.append(f"{cluster} failed: {reason}")
        lines += [f"{cluster} not ready: {d}" for d in details[:5]]
    return Message(title=f"{service} ({env}): {what} failed on {', '.join(failures)}", severity="error",
                   lines=(*lines, after), buttons=(Button("Status", "status", f"/status {service}{_in(env)}"),))


def canary_buttons(service: str, env: str) -> tuple[Button, ...]:
    return (Button("Promote", "promote", f"/deploy {service} promote{_in(env)}"),
            Button("Abort", "abort", f"/deploy {service} abort{_in(env)}"))


def unreachable(service: str, env: str, down: dict[str, str]) -> str:
    """Why a change does not start: the clusters that do not answer (a PermanentError's text)."""
    which = "; ".join(f"cluster {name}: {why}" for name, why in down.items())
    return (f"not starting on {service} ({env}): {which}. Nothing was changed on any cluster; "
            f"try again when it answers (./dockyard cluster status, or the cluster's own health)")


def cluster_incident(cluster: str, labels: dict[str, str], state: str, detail: str, since: str) -> Message:
    """A cluster that stopped answering or has NotReady nodes; the same message turns green when it recovers."""
    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    fields = (("cluster", cluster),) + ((("labels", where),) if where else ()) + (("since", since),)
    if state == "ok":
        return Message(title=f"RESOLVED cluster {cluster}: healthy again", severity="success", fields=fields,
                       lines=("its API answers and every node is Ready",))
    if state == "unreachable":
        return Message(title=f"cluster {cluster}: API unreachable", severity="critical", fields=fields,
                       lines=(f"why: {detail}",
                              "rollouts to environments on this cluster are refused until it answers; "
                              "the other clusters keep working"))
    return Message(title=f"cluster {cluster}: nodes not Ready", severity="critical", fields=fields,
                   lines=(f"not ready: {detail}", "pods there may be evicted or stop getting traffic"))


def autoscaled(service: str, env: str, low: int, high: int, goals: str, ranges: dict[str, tuple[int, int]],
               catalog: str, locale: str = DEFAULT_LOCALE) -> Message:
    """/autoscale on a split environment: the range asked for, and each cluster's share of it."""
    least = sum(lo for lo, _ in ranges.values())
    lines = [say(locale, "each cluster keeps at least 1 replica, so the minimum is {total} in all", total=least)] \
        if least > low else []
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
                     held: list[str], locale: str = DEFAULT_LOCALE) -> Message:
    """/autoscale refused on some cluster: which and why, and what became of every other cluster.

    `undone` maps a cluster to the HPA it was put back to; `held` lists the clusters that keep the
    new range because the catalog says `on_failure: hold`."""
    lines = [say(locale, "{cluster} failed: {reason}", cluster=c, reason=why) for c, why in failures.items()]
    lines += [say(locale, "{cluster}: put back to {hpa}", cluster=c, hpa=hpa) for c, hpa in undone.items()]
    lines += [say(locale, "{cluster}: keeps the new range (on_failure: hold)", cluster=c) for c in held]
    return Message(title=say(locale, "{service} ({env}): {what} failed on {clusters}", service=service, env=env,
                             what=what, clusters=", ".join(failures)),
                   severity="error", lines=tuple(lines),
                   buttons=(Button(say(locale, "Status"), "status", f"/status {service}{_in(env)}"),))
