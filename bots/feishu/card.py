"""Message -> a Feishu message card (msg_type interactive). Pure.

Every text of a Message is plain text, often from outside (alert labels, pod names, log lines,
what someone typed): here all of it goes into plain_text elements, which Feishu shows as typed.
The card uses no lark_md at all, so no outside text becomes a link, an @mention, emphasis or an
image. Cards the Dockyard app posts carry real buttons (a click comes back signed by Feishu and
names who clicked, who then acts as themselves); a custom bot's card cannot call back, so there
each button shows the command to send instead, as on DingTalk. Link buttons open only http(s).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from bots import cutting
from bots.message import Message, web_url
from bots.plaintext import ICONS

BOT_BODY_BYTES = 20_000  # a custom bot's whole request body (Feishu: 20 KB)
SIGN_ROOM = 120  # the timestamp and sign added to a custom bot's body
APP_BODY_BYTES = 29_000  # an app's card message request body (Feishu: 30 KB), with room for the chat id
TEMPLATES = {"info": "blue", "success": "green", "warning": "orange", "error": "red", "critical": "red"}
PRIMARY = {"approve", "promote"}
DANGER = {"reject", "abort", "rollback", "silence"}
FIELDS_PER_DIV = 10


def _text(content: str) -> dict:
    return {"tag": "plain_text", "content": content}


def _card(message: Message, lines: tuple[str, ...], dropped: int, interactive: bool) -> dict:
    elements: list[dict] = []
    fields = [{"is_short": True, "text": _text(f"{key}: {value}")} for key, value in message.fields]
    for start in range(0, len(fields), FIELDS_PER_DIV):
        elements.append({"tag": "div", "fields": fields[start:start + FIELDS_PER_DIV]})
    body = ["\n".join(lines)] if lines else []
    elements += [{"tag": "div", "text": _text(part)} for part in cutting.around(message, body, dropped)]
    actions, hints = [], []
    for button in message.buttons:
        if button.url:
            url = web_url(button.url)  # never a javascript: or data: link
            if url:
                actions.append({"tag": "button", "text": _text(button.label), "type": "default", "url": url})
        elif button.value and interactive:
            kind = "primary" if button.kind in PRIMARY else "danger" if button.kind in DANGER else "default"
            actions.append({"tag": "button", "text": _text(button.label), "type": kind,
                            "value": {"command": button.value}})
        elif button.value:
            hints.append(f"{button.label}: 回复 / reply @Dockyard {button.value}")
    if hints:
        elements.append({"tag": "div", "text": _text("\n".join(hints))})
    if actions:
        elements.append({"tag": "action", "actions": actions})
    if message.footer:
        elements.append({"tag": "note", "elements": [_text(message.footer)]})
    # An app's card is a shared card (update_multi), which Feishu lets the app edit for everyone.
    config = {"wide_screen_mode": True, **({"update_multi": True} if interactive else {})}
    return {"config": config,
            "header": {"title": _text(f"{ICONS[message.severity]} {message.title}"),
                       "template": TEMPLATES[message.severity]},
            "elements": elements}


def bot_size(payload: dict) -> int:
    """A custom bot's request body in bytes, once signed."""
    return len(json.dumps(payload, ensure_ascii=False).encode()) + SIGN_ROOM


def app_size(payload: dict) -> int:
    """An app message's request body in bytes: the card travels as a JSON string inside the JSON."""
    content = json.dumps(payload["card"], ensure_ascii=False)
    return len(json.dumps({"receive_id": "", "msg_type": "interactive", "content": content},
                          ensure_ascii=False).encode())


def _plain_texts(node: object) -> list[dict]:
    if isinstance(node, dict):
        found = [node] if node.get("tag") == "plain_text" else []
        return found + [t for value in node.values() for t in _plain_texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in _plain_texts(value)]
    return []


def _fit(message: Message, interactive: bool, size: Callable[[dict], int], limit: int) -> dict:
    """The card as a payload within `limit`: whole lines go first, then the longest texts are cut."""
    lines, dropped = message.lines, 0
    while True:
        payload = {"msg_type": "interactive", "card": _card(message, lines, dropped, interactive)}
        if size(payload) <= limit or not lines:
            break
        shorter = cutting.fewer(message, lines)
        dropped += len(lines) - len(shorter)
        lines = shorter
    while size(payload) > limit:  # one enormous title or field
        longest = max(_plain_texts(payload), key=lambda t: len(t["content"]))
        longest["content"] = longest["content"][: len(longest["content"]) // 2] + "…"
    return payload


def bot_payload(message: Message) -> dict:
    """A custom bot's card (the webhook body before timestamp and sign), within 20 KB."""
    return _fit(message, False, bot_size, BOT_BODY_BYTES)


def app_payload(message: Message) -> dict:
    """A card the Dockyard app posts to a chat, buttons and all, within its 30 KB."""
    return _fit(message, True, app_size, APP_BODY_BYTES)
