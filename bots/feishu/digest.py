"""A Digest -> one Feishu card: per notification a plain_text line and its link buttons. Pure.

As in card.py, all outside text is plain_text (no lark_md), links are url buttons (http(s) only),
and only the app's cards carry real command buttons (a custom bot's card shows the command to send).
Nothing is cut here: the outbox packs a digest to fit.
"""

from __future__ import annotations

from bots.feishu import card
from bots.plaintext import ICONS
from bots.sinks.digest import Digest, Entry


def _text(content: str) -> dict:
    return {"tag": "plain_text", "content": content}


def kind_of(command: str) -> str:
    """The verb of a kept command (/silence, /approve, /reject), as card.py styles buttons by kind."""
    return command.lstrip("/").split(" ", 1)[0]


def _elements(entry: Entry, interactive: bool) -> list[dict]:
    line = f"{ICONS[entry.severity]} {entry.text}"
    if not interactive:
        line += "".join(f"\n{label}: 回复 / reply @Dockyard {command}" for label, command in entry.commands)
    out: list[dict] = [{"tag": "div", "text": _text(line)}]
    actions = [{"tag": "button", "text": _text(label), "type": "default", "url": url} for label, url in entry.links]
    if interactive:
        actions += [{"tag": "button", "text": _text(label), "value": {"command": command},
                     "type": "danger" if kind_of(command) in card.DANGER else "primary"}
                    for label, command in entry.commands]
    if actions:
        out.append({"tag": "action", "actions": actions})
    return out


def _card(digest: Digest, interactive: bool) -> dict:
    elements = [element for e in digest.entries for element in _elements(e, interactive)]
    elements.append({"tag": "note", "elements": [_text(digest.footer)]})
    return {"config": {"wide_screen_mode": True},
            "header": {"title": _text(f"{ICONS[digest.severity]} {digest.title}"),
                       "template": card.TEMPLATES[digest.severity]},
            "elements": elements}


def bot_payload(digest: Digest) -> dict:
    """A custom bot's card for a digest (the webhook body before timestamp and sign)."""
    return {"msg_type": "interactive", "card": _card(digest, False)}


def app_payload(digest: Digest) -> dict:
    """A card the Dockyard app posts for a digest, with real command buttons."""
    return {"msg_type": "interactive", "card": _card(digest, True)}
