"""Message -> DingTalk robot JSON (markdown, or actionCard when there are buttons). Pure."""

from __future__ import annotations

import json

from bots.message import Message
from bots.render import ICONS

MAX_BYTES = 20_000  # DingTalk refuses robot messages above this
TITLE = 64


def _size(payload: dict) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode())


def _markdown(message: Message, lines: tuple[str, ...], dropped: int) -> str:
    parts = [f"### {ICONS[message.severity]} {message.title}"]
    parts += [f"- **{k}**: {v}" for k, v in message.fields]
    if lines:
        parts.append("\n".join(f"> {line}" for line in lines))
    if dropped:
        parts.append(f"… and {dropped} more lines")
    if message.buttons:
        parts.append("  \n".join(f"回复 / reply: `@Dockyard {b.value}`" for b in message.buttons if b.value
                                 and not b.url))
    if message.footer:
        parts.append(f"*{message.footer}*")
    return "\n\n".join(p for p in parts if p)


def payload(message: Message) -> dict:
    """A robot message for DingTalk, cut to fit its 20,000-byte limit."""
    lines, dropped = message.lines, 0
    while True:
        text = _markdown(message, lines, dropped)
        linked = [b for b in message.buttons if b.url]
        if linked:
            body = {"msgtype": "actionCard", "actionCard": {
                "title": message.title[:TITLE], "text": text, "btnOrientation": "1",
                "btns": [{"title": b.label, "actionURL": b.url} for b in linked]}}
        else:
            body = {"msgtype": "markdown", "markdown": {"title": message.title[:TITLE], "text": text}}
        if _size(body) <= MAX_BYTES or not lines:
            if _size(body) > MAX_BYTES:  # one enormous field or title: cut the text itself
                key = "actionCard" if linked else "markdown"
                raw = body[key]["text"].encode()[: MAX_BYTES - 2000]
                body[key]["text"] = raw.decode(errors="ignore") + "…"
            return body
        keep = max(0, len(lines) - max(1, len(lines) // 4))
        dropped += len(lines) - keep
        lines = lines[:keep]
