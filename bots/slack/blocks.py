"""Message -> Slack Block Kit, within Slack's limits. Pure.

Every text in a Message is plain text, often from outside (alert labels, pod names, log lines,
what someone typed): it is escaped here, in blocks and in the notification text alike, so
`<!channel>`, `<@U123>` and `<https://evil|click>` show as typed instead of pinging or linking.
The only mrkdwn is the renderer's own (`*title*`, code blocks), and `verbatim` stops Slack
from turning plain `#channel` or `@here` words into links and mentions.
"""

from __future__ import annotations

from bots.i18n import say
from bots.message import Message, web_url
from bots.plaintext import ICONS

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELDS_PER_SECTION = 10
FIELD_TEXT = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000  # a longer url makes Slack refuse the whole message
BUTTONS_PER_ACTIONS = 25
FALLBACK_TEXT = 3000
DANGER = {"reject", "abort", "rollback", "silence"}
PRIMARY = {"approve", "promote"}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters (mentions, links, dates)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict:
    """A mrkdwn text object whose plain words Slack leaves alone (no auto-linked channels or mentions)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _line_sections(lines: tuple[str, ...]) -> list[dict]:
    sections, chunk = [], ""
    for line in lines:
        piece = _escape(line)
        if chunk and len(chunk) + 1 + len(piece) > SECTION_TEXT - 10:
            sections.append(chunk)
            chunk = ""
        chunk = f"{chunk}\n{piece}" if chunk else piece
    if chunk:
        sections.append(chunk)
    return [{"type": "section", "text": _mrkdwn(_cut(f"```{s}```" if len(s) < SECTION_TEXT - 6 else s, SECTION_TEXT))}
            for s in sections]


def blocks(message: Message) -> list[dict]:
    """Header section, fields, lines, buttons and footer; at most 50 blocks."""
    out: list[dict] = [{"type": "section", "text": _mrkdwn(_cut(
        f"{ICONS[message.severity]} *{_escape(message.title)}*", SECTION_TEXT))}]
    fields = [_mrkdwn(_cut(f"*{_escape(k)}*\n{_escape(v)}", FIELD_TEXT)) for k, v in message.fields]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        out.append({"type": "section", "fields": fields[start:start + FIELDS_PER_SECTION]})
    sections = _line_sections(message.lines)
    out += sections
    tail: list[dict] = []
    if message.buttons:
        elements = []
        for index, button in enumerate(message.buttons[:BUTTONS_PER_ACTIONS]):
            url = web_url(button.url)
            if button.url and (url is None or len(url) > BUTTON_URL):
                continue  # a link button to somewhere a browser should not go (or Slack will not take)
            element = {"type": "button", "action_id": f"dockyard-{button.kind}-{index}",
                       "text": {"type": "plain_text", "text": _cut(button.label, BUTTON_TEXT)},
                       "value": _cut(button.value, BUTTON_VALUE)}
            if url:
                element["url"] = url
            if button.kind in PRIMARY:
                element["style"] = "primary"
            elif button.kind in DANGER:
                element["style"] = "danger"
            elements.append(element)
        if elements:
            tail.append({"type": "actions", "elements": elements})
    if message.footer:
        tail.append({"type": "context", "elements": [_mrkdwn(_cut(_escape(message.footer), SECTION_TEXT))]})
    room = MAX_BLOCKS - len(tail)
    if len(out) > room:
        dropped = len(out) - room + 1
        if message.cut_from == "start" and dropped < len(sections):  # keep the newest: the first lines go
            head = out[: len(out) - len(sections)]
            note = {"type": "section", "text": _mrkdwn("_" + say(
                message.locale, "… {count} older sections left out to fit one message", count=dropped) + "_")}
            return head + [note] + sections[dropped:] + tail
        out = out[: room - 1] + [{"type": "section", "text": _mrkdwn(
            "_" + say(message.locale, "… and {count} more sections", count=dropped) + "_")}]
    return out + tail


def fallback_text(message: Message) -> str:
    """The notification text (shown where blocks are not): mrkdwn too, so escaped like the blocks."""
    return _cut(f"{ICONS[message.severity]} {_escape(message.title)}", FALLBACK_TEXT)
