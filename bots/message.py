"""What Dockyard says: a channel-neutral message that each sink renders its own way."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

Severity = Literal["info", "success", "warning", "critical", "error"]
SEVERITY_ORDER = ("info", "success", "warning", "error", "critical")  # least to most urgent


@dataclass(frozen=True)
class Button:
    """An action offered with a message (Slack button, DingTalk card link, console hint)."""

    label: str
    kind: str  # what it does, for styling: "rollback", "approve", "silence"
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
    # Which end of `lines` a sink drops when the message is too large for its platform. Lists that run
    # oldest to newest (/events, /history) say "start", so a cut keeps the newest entries.
    cut_from: Literal["end", "start"] = "end"
    locale: str = "en"  # the language of the words a sink adds itself (the cut line), as the renderer's were

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
            cut_from=data.get("cut_from", "end"), locale=data.get("locale", "en"),
        )


def web_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) address, else None.

    URLs from outside (Alertmanager's generatorURL and externalURL, annotations) become buttons
    people click: a `javascript:` or `data:` URL there would run in, or phish from, the chat client.
    Whitespace and control characters are refused rather than trimmed, because browsers and
    chat clients skip them differently ("java\tscript:" is still javascript to some).
    """
    if not url or any(ch.isspace() or ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced [ in the host
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def text(title: str, *lines: str, severity: Severity = "info", ephemeral: bool = False) -> Message:
    """A plain message: a title and some lines."""
    return Message(title=title, severity=severity, lines=tuple(lines), ephemeral=ephemeral)


__all__ = ["Button", "Message", "Severity", "text", "web_url"]
