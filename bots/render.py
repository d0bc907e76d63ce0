"""Pure renderers: Message -> the text a channel shows. Sinks own their own formats."""

from __future__ import annotations

from bots.message import Message

ICONS = {"info": "ℹ", "success": "✔", "warning": "⚠", "critical": "✖", "error": "✖"}


def to_text(message: Message) -> str:
    """Plain text for the console and logs."""
    out = [f"{ICONS[message.severity]} {message.title}"]
    width = max((len(k) for k, _ in message.fields), default=0)
    out += [f"  {key.ljust(width)}  {value}" for key, value in message.fields]
    out += [f"  {line}" for line in message.lines]
    if message.buttons:
        out.append("  actions: " + "  ".join(f"[{b.label}]" + (f" {b.url}" if b.url else "")
                                              for b in message.buttons))
    if message.footer:
        out.append(f"  — {message.footer}")
    return "\n".join(out)
