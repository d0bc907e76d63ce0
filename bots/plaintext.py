"""Pure renderers: Message -> the text a channel shows. Sinks own their own formats."""

from __future__ import annotations

import re

from bots.message import Message, web_url

ICONS = {"info": "ℹ", "success": "✔", "warning": "⚠", "critical": "✖", "error": "✖"}
# Terminals act on control characters (ESC starts colours, cursor moves, window titles and
# OSC 8 hyperlinks): outside text shows them as \xNN instead. Tabs stay; line breaks are indented.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """Outside text for a terminal or a log: controls visible, continuation lines indented under it."""
    text = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))
    return text.replace("\n", "\n    ")


def to_text(message: Message) -> str:
    """Plain text for the console and logs."""
    out = [f"{ICONS[message.severity]} {_safe(message.title)}"]
    fields = [(_safe(key), _safe(value)) for key, value in message.fields]
    width = max((len(k) for k, _ in fields), default=0)
    out += [f"  {key.ljust(width)}  {value}" for key, value in fields]
    out += [f"  {_safe(line)}" for line in message.lines]
    shown = [b for b in message.buttons if not b.url or web_url(b.url)]  # a javascript: link is no action
    if shown:
        out.append("  actions: " + "  ".join(f"[{_safe(b.label)}]" + (f" {b.url}" if b.url else "") for b in shown))
    if message.footer:
        out.append(f"  — {_safe(message.footer)}")
    return "\n".join(out)
