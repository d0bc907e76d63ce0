"""What Dockyard says: a channel-neutral message that each sink renders its own way."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["info", "success", "warning", "critical", "error"]


@dataclass(frozen=True)
class Button:
    """An action offered with a message (Slack button, DingTalk card link, console hint)."""

    label: str
    action: str  # e.g. "rollback", "approve", "silence"
    value: str = ""  # the chat command the button stands for, e.g. "/deploy web promote"
    url: str | None = None


@dataclass(frozen=True)
class Message:
    """Title, severity, key/value fields, free lines and buttons."""

    title: str
    severity: Severity = "info"
    fields: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = False  # only the person who asked sees it, where the channel can
    footer: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "Message":
        return Message(
            title=data["title"], severity=data.get("severity", "info"),
            fields=tuple(tuple(f) for f in data.get("fields", ())),  # type: ignore[misc]
            lines=tuple(data.get("lines", ())),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            ephemeral=data.get("ephemeral", False), footer=data.get("footer", ""),
        )


def text(title: str, *lines: str, severity: Severity = "info", ephemeral: bool = False) -> Message:
    """A plain message: a title and some lines."""
    return Message(title=title, severity=severity, lines=tuple(lines), ephemeral=ephemeral)


__all__ = ["Button", "Message", "Severity", "text"]
