"""Per-robot delivery within DingTalk's quota: 20 messages a minute, 20,000 bytes each.

The outbox itself is shared by every robot sink (bots/sinks/outbox.py): messages wait in Redis,
bursts are merged into digests within the quota, and nothing is dropped. This module is DingTalk's
description of its quota, and the robot-named calls the DingTalk sink and flush job use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace

from redis import Redis

from bots.dingtalk import digest as digest_card
from bots.dingtalk import markdown
from bots.message import Message
from bots.sinks import outbox as shared
from bots.sinks.outbox import Flushed

PER_MINUTE = 20
WINDOW = 60.0
TOO_FAST = 130101  # DingTalk's "send too fast" errcode
BACKOFF_SECONDS = 60

QUOTA = shared.Quota(
    sink="dingtalk", platform="DingTalk", limits=((PER_MINUTE, WINDOW),), max_bytes=markdown.MAX_BYTES,
    render=markdown.payload, size=lambda payload: len(json.dumps(payload, ensure_ascii=False).encode()),
    error=lambda answer: int(answer.get("errcode", 0) or 0), too_fast=frozenset({TOO_FAST}),
    backoff=BACKOFF_SECONDS, digest=digest_card.payload)


def outbox_key(robot: str) -> str:
    return shared.outbox_key("dingtalk", robot)


def sent_key(robot: str) -> str:
    return shared.sent_key("dingtalk", robot)


def digest(messages: list[Message], part: int = 1, parts: int = 1) -> dict:
    """The robot payload merging `messages`: part `part` of a digest in `parts` messages."""
    return digest_card.payload(shared.digest(messages, QUOTA.platform, part, parts))


def plan(messages: list[Message], slots: int, max_bytes: int = markdown.MAX_BYTES) -> list[list[Message]]:
    """Group waiting messages into at most `slots` sends: alone while they fit, else packed digests."""
    return shared.plan(replace(QUOTA, max_bytes=max_bytes), messages, slots)


def push(redis: Redis, robot: str, message: Message) -> int:
    """Queue one message for a robot; returns how many wait."""
    return shared.push(redis, QUOTA, robot, message)


def flush(redis: Redis, robot: str, send: Callable[[dict], dict], now: Callable[[], float] = time.time,
          prefix: str = "") -> Flushed:
    """Send what the quota allows now. `send` posts one payload and returns DingTalk's JSON answer.

    `prefix` starts each digest's title, as it starts every message's: a robot secured by a custom
    keyword refuses a digest without it."""
    return shared.flush(redis, replace(QUOTA, prefix=prefix), robot, send, now)
