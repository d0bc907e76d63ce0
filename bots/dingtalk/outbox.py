"""Per-robot delivery within DingTalk's quota: 20 messages a minute, 20,000 bytes each.

Messages wait in a Redis list. A flush sends them one by one while the quota
allows; when more are waiting than the minute has slots, they are merged
into digest messages so every event is delivered and none is dropped. What
does not fit waits for the next window.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from bots.dingtalk import markdown
from bots.message import Message
from bots.plaintext import ICONS

PER_MINUTE = 20
WINDOW = 60.0
TOO_FAST = 130101  # DingTalk's "send too fast" errcode
BACKOFF_SECONDS = 60
MAX_PENDING_READ = 5000


def outbox_key(robot: str) -> str:
    return f"dockyard:dingtalk:outbox:{robot}"


def sent_key(robot: str) -> str:
    return f"dockyard:dingtalk:sent:{robot}"


def digest_line(message: Message) -> str:
    fields = "; ".join(f"{k}: {v}" for k, v in message.fields)
    first = message.lines[0] if message.lines else ""
    return " — ".join(p for p in (f"{ICONS[message.severity]} {message.title}", fields, first) if p)


def digest(messages: list[Message]) -> Message:
    worst = max(messages, key=lambda m: ["info", "success", "warning", "error", "critical"].index(m.severity))
    return Message(title=f"{len(messages)} notifications", severity=worst.severity,
                   lines=tuple(digest_line(m) for m in messages), footer="merged to stay within DingTalk's quota")


def plan(messages: list[Message], slots: int, max_bytes: int = markdown.MAX_BYTES) -> list[list[Message]]:
    """Group waiting messages into at most `slots` sends: alone while they fit, else packed digests."""
    if slots <= 0 or not messages:
        return []
    if len(messages) <= slots:
        return [[m] for m in messages]
    batches: list[list[Message]] = [[]]
    for message in messages:
        trial = batches[-1] + [message]
        if batches[-1] and len(json.dumps(markdown.payload(digest(trial)), ensure_ascii=False).encode()) > max_bytes - 500:
            if len(batches) == slots:
                break
            batches.append([message])
        else:
            batches[-1] = trial
    return batches


@dataclass(frozen=True)
class Flushed:
    sent: int  # messages (or digests) sent
    events: int  # events they carried
    waiting: int  # events still queued
    retry_after: float | None  # seconds until the next flush is worth trying


def push(redis: Redis, robot: str, message: Message) -> int:
    """Queue one message for a robot; returns how many wait."""
    return redis.rpush(outbox_key(robot), json.dumps(message.to_dict()))


def flush(redis: Redis, robot: str, send: Callable[[dict], dict], now: Callable[[], float] = time.time) -> Flushed:
    """Send what the quota allows now. `send` posts one payload and returns DingTalk's JSON answer."""
    started = now()
    redis.zremrangebyscore(sent_key(robot), 0, started - WINDOW)
    slots = PER_MINUTE - redis.zcard(sent_key(robot))
    raw = redis.lrange(outbox_key(robot), 0, MAX_PENDING_READ - 1)
    pending = [Message.from_dict(json.loads(r)) for r in raw]
    sent = events = 0
    retry_after: float | None = None
    for batch in plan(pending, slots):
        payload = markdown.payload(batch[0] if len(batch) == 1 else digest(batch))
        answer = send(payload)
        if answer.get("errcode", 0) == TOO_FAST:
            retry_after = BACKOFF_SECONDS
            break
        if answer.get("errcode", 0) != 0:
            retry_after = BACKOFF_SECONDS  # keep the messages; the reason is logged by the caller
            break
        stamp = now()
        pipe = redis.pipeline()
        pipe.zadd(sent_key(robot), {f"{stamp}:{sent}": stamp})
        pipe.expire(sent_key(robot), int(WINDOW) * 2)
        pipe.lpop(outbox_key(robot), len(batch))
        pipe.execute()
        sent += 1
        events += len(batch)
    waiting = redis.llen(outbox_key(robot))
    if waiting and retry_after is None:
        oldest = redis.zrange(sent_key(robot), 0, 0, withscores=True)
        retry_after = max(1.0, (oldest[0][1] + WINDOW - now()) if oldest else 1.0)
    return Flushed(sent, events, waiting, retry_after)
