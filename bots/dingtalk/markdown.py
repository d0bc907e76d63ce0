"""Message -> DingTalk robot JSON (markdown, or actionCard when there are buttons). Pure.

Every text in a Message is plain text, often from outside (alert labels, pod names, log lines,
what someone typed): here it is backslash-escaped, so `![](http://evil/pixel)` shows as typed
rather than loading an image, and no outside text becomes a link, heading, emphasis or HTML.
The only markdown is the renderer's own (`###`, `**key**`, `>`, the reply hint's code span).
"""

from __future__ import annotations

import json
import re

from bots import cutting
from bots.message import Message, web_url
from bots.plaintext import ICONS

MAX_BYTES = 20_000  # DingTalk refuses robot messages above this
TITLE = 64
# Characters that start inline markdown anywhere in a line: emphasis, code, links, images,
# headings, HTML and entities, tables, strikethrough. Markdown un-escapes a backslash before any
# ASCII punctuation, so escaping one that turns out harmless costs nothing on screen.
INLINE = re.compile(r"([\\`*_\[\]()<>#!|~&])")
# What makes a list, a numbered list or a setext heading only at the start of a line.
LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def _size(payload: dict) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode())


def _line(text: str) -> str:
    """One line of plain text as markdown that shows exactly that text."""
    text = INLINE.sub(r"\\\1", text)
    return LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit()
                                                  else m.group(2) + "\\"), text)


def _plain(text: str) -> str:
    """Plain text for a one-line place (heading, list item, emphasis): its line breaks become spaces."""
    return " ".join(_line(part) for part in text.splitlines()) if text else ""


def _code(text: str) -> str:
    """A code span holding `text` literally: its fence is longer than any backtick run inside."""
    text = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _markdown(message: Message, lines: tuple[str, ...], dropped: int) -> str:
    parts = [f"### {ICONS[message.severity]} {_plain(message.title)}"]
    parts += [f"- **{_plain(k)}**: {_plain(v)}" for k, v in message.fields]
    quoted = ["\n".join(f"> {_line(part)}" for line in lines for part in (line.splitlines() or [""]))] if lines else []
    parts += cutting.around(message, quoted, dropped)  # a line with line breaks stays in the quote, one quoted line each
    if message.buttons:
        parts.append("  \n".join(f"回复 / reply: {_code('@Dockyard ' + b.value)}" for b in message.buttons
                                 if b.value and not b.url))
    if message.footer:
        parts.append(f"*{_plain(message.footer)}*")
    return "\n\n".join(p for p in parts if p)


def payload(message: Message) -> dict:
    """A robot message for DingTalk, cut to fit its 20,000-byte limit."""
    lines, dropped = message.lines, 0
    while True:
        text = _markdown(message, lines, dropped)
        linked = [b for b in message.buttons if web_url(b.url)]  # never a javascript: or data: link
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
        shorter = cutting.fewer(message, lines)
        dropped += len(lines) - len(shorter)
        lines = shorter
