"""How a sink shortens a message's lines to fit its platform's size limit: from the end the message allows. Pure.

Every byte-limited renderer (DingTalk, WeCom, Feishu) retries with fewer lines until the payload fits;
this is the one place that says which lines go and what the cut line reads.
"""

from __future__ import annotations

from bots.i18n import say
from bots.message import Message


def fewer(message: Message, lines: tuple[str, ...]) -> tuple[str, ...]:
    """`lines` less about a quarter of them (at least one), taken from the end `message.cut_from` names."""
    drop = max(1, len(lines) // 4)
    keep = max(0, len(lines) - drop)
    return lines[len(lines) - keep:] if message.cut_from == "start" else lines[:keep]


def note(message: Message, dropped: int) -> str:
    """The line standing where lines were left out: how many, and that the newest were kept when they were."""
    if message.cut_from == "start":
        return say(message.locale, "… {count} older lines left out to fit one message (the newest are shown)",
                   count=dropped)
    return say(message.locale, "… and {count} more lines", count=dropped)


def around(message: Message, body: list[str], dropped: int) -> list[str]:
    """The rendered lines with the cut line where the lines were left out: before them, or after."""
    if not dropped:
        return body
    return [note(message, dropped), *body] if message.cut_from == "start" else [*body, note(message, dropped)]
