"""Pure builders of rollout messages: progress, success, failure and rollback."""

from __future__ import annotations

from bots.message import Button, Message


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


def cron_job_set(service: str, env: str, image: str, schedule: str, concurrency: str) -> Message:
    """A scheduled job's CronJob now runs `image`: from its next run on, not now."""
    return Message(title=f"{_where(service, env)}: scheduled job set to {image.rsplit(':', 1)[-1]}", severity="success",
                   fields=(("image", image), ("schedule", f"{schedule} (UTC)"), ("overlapping runs", concurrency)),
                   lines=("the next run uses it; a run already going finishes with the image it started with",),
                   buttons=(Button("Status", "status", f"/status {service}{_in(env)}"),))
