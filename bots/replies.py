"""Pure builders of the messages commands answer with."""

from __future__ import annotations

from bots.commands import SUMMARY, USAGE
from bots.message import Message
from rules.models import Service


def help_message(topic: str | None) -> Message:
    """/help lists every command; /help <command> gives its usage."""
    if topic:
        return Message(title=f"/{topic} — {SUMMARY[topic]}", lines=(f"usage: {USAGE[topic]}",))
    return Message(title="Dockyard commands", fields=tuple((f"/{verb}", SUMMARY[verb]) for verb in USAGE),
                   footer="/help <command> shows its usage")


def error_message(text: str) -> Message:
    """A command that could not run: one line of reason, then the usage."""
    reason, _, usage = text.partition("\n")
    return Message(title=reason, severity="error", lines=(usage,) if usage else (), ephemeral=True)


def status_message(name: str, service: Service, live: dict[str, dict | None], envs: list[str]) -> Message:
    """/status: what the catalog says, plus the cluster's view where there is one.

    `live` maps an environment to a summary of its Deployment (None when the
    cluster has none, missing when no cluster is configured).
    """
    fields: list[tuple[str, str]] = [("team", service.team), ("language", service.language),
                                     ("git", service.git)]
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
        if summary["ready"] < summary["desired"]:
            severity = "warning"
    if not live:
        lines.append("no cluster configured: showing the catalog only")
    return Message(title=f"{name} status", severity=severity, fields=tuple(fields), lines=tuple(lines))  # type: ignore[arg-type]
