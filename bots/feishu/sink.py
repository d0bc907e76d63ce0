"""The Feishu sink: cards the Dockyard app posts to a chat (with buttons), or a custom bot's cards.

Both go through the shared outbox: bursts become digests within the quota, and nothing is dropped.
"""

from __future__ import annotations

from bots.feishu import card, delivery
from bots.sinks import outbox


class FeishuSink(outbox.OutboxSink):
    """`{"chat": oc_…}` is a chat the app's bot is in; `{"robot": name}` a custom bot."""

    name = "feishu"
    direct, direct_prefix, delivery = "chat", delivery.CHAT, delivery
    text_budget = card.APP_BODY_BYTES * 3 // 5  # an answer is one of the app's cards: 30 KB a request

    def edits(self, target: dict) -> bool:
        """The app edits its own cards in a chat (PATCH); a custom bot can only send."""
        return bool(target.get(self.direct))


Sink = FeishuSink
