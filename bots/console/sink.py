"""The console sink: replies for `./dockyard chat`, and a feed that `make run` prints."""

from __future__ import annotations

import json
import logging
import time
import uuid

from redis import Redis

from bots.message import Message
from core.runtime import Runtime
from bots.plaintext import to_text

log = logging.getLogger("dockyard.console")
FEED = "dockyard:console:feed"  # every console message, for `./dockyard chat --follow` and tests
REPLY_TTL = 3600
FEED_MAX = 10_000


def conversation_key(conversation: str) -> str:
    return f"dockyard:console:conversation:{conversation}"


class ConsoleSink:
    """Writes rendered text to a Redis list per conversation and to the feed stream."""

    name = "console"
    text_budget = 1_000_000  # a terminal and a Redis list: no platform limit, only what is sensible to print

    def __init__(self, redis: Redis):
        self.redis = redis

    @classmethod
    def from_runtime(cls, rt: Runtime) -> "ConsoleSink":
        return cls(rt.redis)

    def _deliver(self, target: dict, ref: str, message: Message, updated: bool) -> str:
        rendered = to_text(message)
        payload = json.dumps({"ref": ref, "updated": updated, "text": rendered, "message": message.to_dict(),
                              "time": time.time()})
        pipe = self.redis.pipeline()
        if target.get("conversation"):
            key = conversation_key(target["conversation"])
            pipe.rpush(key, payload)
            pipe.expire(key, REPLY_TTL)
        pipe.xadd(FEED, {"payload": payload}, maxlen=FEED_MAX, approximate=True)
        pipe.execute()
        log.info("%s%s", "(updated) " if updated else "", rendered)
        return ref

    def post(self, target: dict, message: Message) -> str:
        return self._deliver(target, uuid.uuid4().hex[:12], message, updated=False)

    def edits(self, target: dict) -> bool:
        return True  # an update is marked "(updated)" and replaces the earlier text for readers

    def update(self, target: dict, ref: str, message: Message) -> str:
        return self._deliver(target, ref, message, updated=True)


def wait_replies(redis: Redis, conversation: str, timeout: float) -> list[dict]:
    """Block until the conversation's first reply arrives, then drain what else is there."""
    key = conversation_key(conversation)
    first = redis.blpop([key], timeout=timeout)
    if first is None:
        return []
    replies = [json.loads(first[1])]
    while (more := redis.lpop(key)) is not None:
        replies.append(json.loads(more))
    return replies


Sink = ConsoleSink
