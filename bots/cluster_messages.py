"""Pure builders of the messages of a rollout across several clusters: one message, a line per cluster."""

from __future__ import annotations

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
