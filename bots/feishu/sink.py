"""The Feishu sink: cards the Dockyard app posts to a chat (with buttons), or a custom bot's cards.

Both go through the shared outbox: bursts become digests within the quota, and nothing is dropped.
"""

from __future__ import annotations

import uuid

from redis import Redis

from bots.feishu import card, delivery
from bots.message import Message
from bots.sinks import outbox
from core.config import Settings
from core.runtime import Runtime


class FeishuSink:
    """`{"chat": oc_…}` is a chat the app's bot is in; `{"robot": name}` a custom bot."""

    name = "feishu"
    # The app could edit its own cards, but a custom bot cannot, and the seam asks this of a sink
    # as a whole: a changed headline arrives as a new card.
    edits_in_place = False
    text_budget = card.APP_BODY_BYTES * 3 // 5  # an answer is one of the app's cards: 30 KB a request

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    @classmethod
    def from_runtime(cls, rt: Runtime) -> "FeishuSink":
        return cls(rt.redis, rt.settings)

    def post(self, target: dict, message: Message) -> str:
        if target.get("chat"):
            box = f"{delivery.CHAT}{target['chat']}"
        else:
            box = target.get("robot") or "default"
            delivery.robot_url(self.settings, box)  # an unknown bot fails now, not in the outbox
        outbox.push(self.redis, delivery.quota(box), box, message)
        outbox.schedule_flush(self.redis, self.settings, self.name, box)
        return f"queued:{box}:{uuid.uuid4().hex[:8]}"

    def update(self, target: dict, ref: str, message: Message) -> str:
        return self.post(target, message)


Sink = FeishuSink
