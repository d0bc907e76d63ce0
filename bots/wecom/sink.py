"""The WeCom sink: answers to a member through the app, notifications through a group robot.

Neither can edit a message already sent, and both have quotas, so everything goes through the
shared outbox: bursts become digests and nothing is dropped.
"""

from __future__ import annotations

import uuid

from redis import Redis

from bots.message import Message
from bots.sinks import outbox
from bots.wecom import delivery, markdown
from core.config import Settings
from core.runtime import Runtime


class WeComSink:
    """`{"user": userid}` is a member's chat with the app; `{"robot": name}` a group robot."""

    name = "wecom"
    edits_in_place = False
    text_budget = markdown.APP_BYTES * 3 // 5  # an answer goes to the app's chat: 2,048 bytes of markdown

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    @classmethod
    def from_runtime(cls, rt: Runtime) -> "WeComSink":
        return cls(rt.redis, rt.settings)

    def post(self, target: dict, message: Message) -> str:
        if target.get("user"):
            box = f"{delivery.USER}{target['user']}"
        else:
            box = target.get("robot") or "default"
            delivery.robot_url(self.settings, box)  # an unknown robot fails now, not in the outbox
        outbox.push(self.redis, delivery.quota(box), box, message)
        outbox.schedule_flush(self.redis, self.settings, self.name, box)
        return f"queued:{box}:{uuid.uuid4().hex[:8]}"

    def update(self, target: dict, ref: str, message: Message) -> str:
        return self.post(target, message)  # nothing WeCom sends can be edited: a changed headline is new


Sink = WeComSink
