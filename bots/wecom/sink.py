"""The WeCom sink: answers to a member through the app, notifications through a group robot.

Both have quotas, so everything goes through the shared outbox: bursts become digests and nothing
is dropped. Neither can change a message already sent; in the app's chat with a member an update
recalls the previous message and sends the new one (bots/wecom/delivery.py), so the member sees
one current message. A group robot only sends: a changed headline arrives as a new message.
"""

from __future__ import annotations

from bots.sinks import outbox
from bots.wecom import delivery, markdown


class WeComSink(outbox.OutboxSink):
    """`{"user": userid}` is a member's chat with the app; `{"robot": name}` a group robot."""

    name = "wecom"
    direct, direct_prefix, delivery = "user", delivery.USER, delivery
    text_budget = markdown.APP_BYTES * 3 // 5  # an answer goes to the app's chat: 2,048 bytes of markdown

    def edits(self, target: dict) -> bool:
        return bool(target.get(self.direct))  # the app's chat with a member: recall and send anew


Sink = WeComSink
