"""Message -> WeCom markdown (group robots, app messages) and plain text (passive replies). Pure.

WeCom's markdown is its own small dialect (headings, **bold**, [links](url), `code`, > quotes,
<font color>, and <@userid> mentions) and documents no escape character, so outside text (alert
labels, pod names, log lines, what someone typed) cannot be backslash-escaped into safety. Instead
the few characters that open its markup are shown as their full-width twins (＜ ＞ ［ ］ ＊ ｀): a
look-alike that no markdown reads, so `<@all>` or `[click](http://evil)` shows as typed and
pings or links nobody. Text messages turn <a href> into links and $userName=…$ into names, so the
same applies there to <, > and $. The only markup is the renderer's own.
"""

from __future__ import annotations

from dataclasses import replace

from bots import cutting
from bots.message import Message, web_url
from bots.plaintext import ICONS, to_text

ROBOT_BYTES = 4096  # a group robot's markdown.content
APP_BYTES = 2048  # an app message's markdown.content
TEXT_BYTES = 2048  # a passive reply's text Content
MARKUP = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "*": "＊", "`": "｀"})
TEXT_MARKUP = str.maketrans({"<": "＜", ">": "＞", "$": "＄"})


def _plain(text: str) -> str:
    """Outside text for one line of markdown: inert, its line breaks become spaces."""
    return " ".join(text.splitlines()).translate(MARKUP)


def _cut(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut at a character and marked."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 4].decode(errors="ignore") + "…"


def _content(message: Message, lines: tuple[str, ...], dropped: int) -> str:
    parts = [f"### {ICONS[message.severity]} {_plain(message.title)}"]
    parts += [f"**{_plain(k)}**: {_plain(v)}" for k, v in message.fields]
    # one quoted line per line of text, so nothing from outside starts a line
    quoted = ["\n".join(f"> {_plain(part)}" for line in lines for part in (line.splitlines() or [""]))] if lines else []
    parts += cutting.around(message, quoted, dropped)
    # A robot's markdown has no buttons: each shows the command to send instead (Dockyard's app
    # names the sender). Link buttons become links, only to http(s).
    for button in message.buttons:
        if button.value and not button.url:
            parts.append(f"{_plain(button.label)}: 发给 Dockyard / send to Dockyard `{_plain(button.value)}`")
        elif web_url(button.url) and ")" not in button.url:  # a ) would end the link early
            parts.append(f"[{_plain(button.label)}]({button.url})")
    if message.footer:
        parts.append(f'<font color="comment">{_plain(message.footer)}</font>')
    return "\n".join(p for p in parts if p)


def content(message: Message, max_bytes: int = ROBOT_BYTES) -> str:
    """The markdown for a message, cut to `max_bytes`: whole lines go first, then the text itself."""
    lines, dropped = message.lines, 0
    while True:
        text = _content(message, lines, dropped)
        if len(text.encode()) <= max_bytes or not lines:
            return _cut(text, max_bytes)
        shorter = cutting.fewer(message, lines)
        dropped += len(lines) - len(shorter)
        lines = shorter


def robot_payload(message: Message) -> dict:
    """A group robot's message (POST to its webhook)."""
    return {"msgtype": "markdown", "markdown": {"content": content(message, ROBOT_BYTES)}}


def app_payload(message: Message) -> dict:
    """An app message's body without touser and agentid (delivery adds them)."""
    return {"msgtype": "markdown", "markdown": {"content": content(message, APP_BYTES)}}


def text(message: Message) -> str:
    """Plain text for a passive reply: the console's rendering, with WeCom's text markup made inert, whole
    lines left out (from the end the message allows) until it fits, then the text itself cut."""
    lines, dropped = message.lines, 0
    while True:
        body = to_text(replace(message, lines=tuple(cutting.around(message, list(lines), dropped))))
        body = body.translate(TEXT_MARKUP)
        if len(body.encode()) <= TEXT_BYTES or not lines:
            return _cut(body, TEXT_BYTES)
        shorter = cutting.fewer(message, lines)
        dropped += len(lines) - len(shorter)
        lines = shorter
