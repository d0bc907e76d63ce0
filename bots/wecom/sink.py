"""The WeCom sink: answers to a member through the app, notifications through a group robot.

Neither can edit a message already sent, and both have quotas, so everything goes through the
shared outbox: bursts become digests and nothing is dropped.
"""

from __future__ import annotations

from bots.sinks import outbox
from bots.wecom import delivery, markdown


class WeComSink(outbox.OutboxSink):
    """`{"user": userid}` is a member's chat with the app; `{"robot": name}` a group robot."""

    name = "wecom"
    direct, direct_prefix, delivery = "user", delivery.USER, delivery
    text_budget = markdown.APP_BYTES * 3 // 5  # an answer goes to the app's chat: 2,048 bytes of markdown


Sink = WeComSink
