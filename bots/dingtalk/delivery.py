"""Where the DingTalk app's cards go, within which quota: a group by its openConversationId.

Group robots keep their own outbox path (bots/dingtalk/outbox.py, jobs/dingtalk.py); a box named
conversation:<openConversationId> holds the app robot's interactive cards for that group, flushed by
jobs/outbox.py like WeCom's and Feishu's boxes, with their edits (bots/sinks/edits.py).
"""

from __future__ import annotations

from bots.dingtalk import cards, digest, markdown
from bots.sinks import outbox
from bots.sinks.base import SinkError
from core.config import Settings
from core.runtime import Runtime

CONVERSATION = "conversation:"
PER_MINUTE = 20  # as a group robot: 20 sends a minute per group, posts and updates alike

CARD = outbox.Quota(
    sink="dingtalk", platform="DingTalk", limits=((PER_MINUTE, 60.0),), max_bytes=markdown.MAX_BYTES,
    render=cards.payload, size=cards.size, error=lambda answer: int(answer.get("errcode", 0) or 0),
    too_fast=frozenset({cards.TOO_FAST}), digest=lambda d: cards.digest_payload(digest.payload(d)),
    message_id=lambda answer: answer.get("outTrackId"))


def quota(box: str) -> outbox.Quota:
    return CARD


def box(conversation: str) -> str:
    return f"{CONVERSATION}{conversation}"


def robot_url(settings: Settings, robot: str) -> str:  # the shared outbox's contract; robots go elsewhere
    raise SinkError(f"DingTalk robot {robot!r} is not delivered through cards", retryable=False)


def editable(box: str) -> bool:
    return box.startswith(CONVERSATION)


def send(rt: Runtime, box: str, payload: dict, ref: str | None = None) -> dict:
    """Post one card to the box's group; the answer carries its outTrackId."""
    return cards.send(rt.redis, rt.settings, box.removeprefix(CONVERSATION), payload, ref)


def edit(rt: Runtime, box: str, out_track_id: str, payload: dict) -> dict:
    """Update the card posted under `out_track_id` with the new content."""
    return cards.update(rt.redis, rt.settings, out_track_id, payload)
