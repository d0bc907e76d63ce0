"""Delivery within a chat platform's quota, per destination (a group robot, a person, a chat). Knows no sink.

Messages wait in a Redis list per destination ("box"). A flush sends them one by one while every
limit of the platform allows; when more are waiting than the limits have slots, they are merged
into digest messages, so every event is delivered and none is dropped. What does not fit waits
for the next window, and an answer that says "too fast" (or any refusal) keeps the messages and
backs off. Each platform describes itself with a Quota: its limits, its size limit and renderer,
and how its answers read.

Flushes are paced in rounds: a few rounds may run at once (`burst`), then one per `pace` (the
tightest limit spread evenly); a round sends everything waiting that the windows allow, alone only
while no more than `burst` wait, else packed into digests. Unpaced, the first events of a storm
each went out alone and spent the minute's whole quota in its first second, so everything after
them waited a minute; paced, the rest goes out as full digests within seconds, and the quota is
never idle for more than a pace while something waits.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from dataclasses import dataclass

from redis import Redis

from bots.message import Message
from bots.sinks import digest as digests
from bots.sinks import edits
from bots.sinks.digest import Digest
from core import metrics
from core.config import Settings
from jobs.queues import enqueue

MAX_PENDING_READ = 5000
FLUSH_JOB = "jobs.outbox.flush"
FLUSH_QUEUE = "outbox"  # ahead of the notify jobs that fill the outbox: a backlog never holds the flush back
QUEUED = "queued:"  # how a sink's reference starts when the message waits in an outbox, not yet sent
BOXES = "dockyard:outboxes"  # every outbox ever pushed to, as "<sink>:<box>", for the backlog gauge


@dataclass(frozen=True)
class Quota:
    """How one destination of a platform may be sent to, and how the platform answers."""

    sink: str  # the sink's name: Redis keys, job kind, metric label
    platform: str  # what people call it, for the digest's footer
    limits: tuple[tuple[int, float], ...]  # (messages, seconds): every window is respected
    max_bytes: int  # the most size() of one payload may be
    render: Callable[[Message], dict]  # Message -> the payload to send (cut to fit max_bytes)
    size: Callable[[dict], int]  # a payload's size as the platform counts it
    error: Callable[[dict], int]  # the platform's error code in an answer; 0 when sent
    too_fast: frozenset[int]  # codes that mean "slow down"
    backoff: float = 60.0  # seconds to wait after a refusal
    digest: Callable[[Digest], dict] | None = None  # Digest -> payload with live links; None: as plain lines
    # The platform's id for the message an answer accepted, where it can be edited later (bots/sinks/edits.py).
    message_id: Callable[[dict], str | None] = lambda answer: None
    prefix: str = ""  # starts a digest's title, as titled() starts every message's (set per destination)
    burst: int = 5  # flush rounds at once before pacing sets in, and messages a round sends alone (room())

    @property
    def pace(self) -> float:
        """Seconds between flush rounds while a storm lasts: the tightest limit's count spread over its window."""
        return max(seconds / count for count, seconds in self.limits)


@dataclass(frozen=True)
class Flushed:
    sent: int  # messages (or digests) sent
    events: int  # events they carried
    waiting: int  # events still queued
    retry_after: float | None  # seconds until the next flush is worth trying


def queued(ref: str | None) -> bool:
    """Whether a sink's answer to post() means "waiting in the outbox" (counted when flushed), not "sent"."""
    return bool(ref) and ref.startswith(QUEUED)


def outbox_key(sink: str, box: str) -> str:
    return f"dockyard:{sink}:outbox:{box}"


def sent_key(sink: str, box: str) -> str:
    return f"dockyard:{sink}:sent:{box}"


def rounds_key(sink: str, box: str) -> str:
    return f"dockyard:{sink}:rounds:{box}"


def pending_key(sink: str, box: str) -> str:
    return f"dockyard:{sink}:flush-pending:{box}"


def digest(messages: list[Message], platform: str, part: int = 1, parts: int = 1, total: int = 0,
           later: int = 0, prefix: str = "") -> Digest:
    """Many waiting messages as one send: a line each with its links, as urgent as the most urgent."""
    return digests.digest(messages, platform, part, parts, total, later, prefix)


def render_digest(quota: Quota, digest_: Digest) -> dict:
    """The platform's payload for a digest: its own digest renderer, else the plain Message's."""
    return quota.digest(digest_) if quota.digest else quota.render(digests.as_message(digest_))


def _fits(quota: Quota, messages: list[Message]) -> bool:
    """Whether these messages, merged, fit one send whatever part of whichever digest they become."""
    return all(quota.size(render_digest(quota, digest(messages, quota.platform, **widest, prefix=quota.prefix)))
               <= quota.max_bytes
               for widest in digests.WIDEST)


def plan(quota: Quota, messages: list[Message], slots: int) -> list[list[Message]]:
    """Group waiting messages into at most `slots` sends: alone while they fit, else packed digests.

    Digests are never cut (a cut would lose lines and links): each is packed to fit. A message
    too large for a digest on its own still gets a batch of its own; flush sends it as itself,
    which its renderer fits to the platform.
    """
    if slots <= 0 or not messages:
        return []
    if len(messages) <= min(slots, quota.burst):  # a few: each as itself; more would spend the quota on singles
        return [[m] for m in messages]
    batches: list[list[Message]] = [[]]
    for message in messages:
        trial = batches[-1] + [message]
        if batches[-1] and not _fits(quota, trial):
            if len(batches) == slots:
                break
            batches.append([message])
        else:
            batches[-1] = trial
    return batches


def _payloads(quota: Quota, batches: list[list[Message]], merged: bool, later: int) -> list[dict]:
    """What to send for each planned batch: a message alone, or the batch's part of the digest."""
    if not merged:
        return [quota.render(batch[0]) for batch in batches]
    total, out = sum(len(b) for b in batches), []
    for part, batch in enumerate(batches, 1):
        payload = render_digest(quota, digest(batch, quota.platform, part, len(batches), total, later,
                                              prefix=quota.prefix))
        if len(batch) == 1 and quota.size(payload) > quota.max_bytes:
            payload = quota.render(batch[0])  # one message too large for a digest line: as itself, fitted
        out.append(payload)
    return out


def push(redis: Redis, quota: Quota, box: str, message: Message, ref: str | None = None) -> int:
    """Queue one message for a destination (`ref`: an editable post's own ref); returns how many wait."""
    pipe = redis.pipeline()
    if ref:
        edits.waiting(pipe, quota.sink, ref)
    pipe.rpush(outbox_key(quota.sink, box), edits.entry(message, ref))
    pipe.sadd(BOXES, f"{quota.sink}:{box}")  # bounded: one member per robot, person or chat
    return pipe.execute()[0]


def backlog(redis: Redis) -> dict[str, int]:
    """Messages waiting in outboxes, per sink (0 for a sink whose outboxes are empty)."""
    boxes = [member.decode().split(":", 1) for member in redis.smembers(BOXES)]
    pipe = redis.pipeline(transaction=False)
    for sink, box in boxes:
        pipe.llen(outbox_key(sink, box))
    out: dict[str, int] = {}
    for (sink, _), waiting in zip(boxes, pipe.execute()):
        out[sink] = out.get(sink, 0) + int(waiting)
    return out


def room(sends: Sequence[float], rounds: Sequence[float], quota: Quota, now: float) -> tuple[int, float]:
    """How many sends this flush round may make, and (when none) the seconds until one may. Pure.

    `sends` are the destination's recent sends, `rounds` the flush rounds that sent them. Every window
    of the platform bounds the sends; the pace bounds the rounds: a generic cell rate (GCRA) with
    `burst` rounds of credit, so after a few rounds at once there is one per `pace`.
    """
    slots, wait = min(count for count, _ in quota.limits), 0.0
    for count, seconds in quota.limits:
        inside = sorted(s for s in sends if s > now - seconds)
        slots = min(slots, count - len(inside))
        if len(inside) >= count:  # full: the send that leaves the window first frees a slot
            wait = max(wait, inside[len(inside) - count] + seconds - now)
    pace, theoretical = quota.pace, float("-inf")
    for stamp in sorted(rounds):
        theoretical = max(theoretical, stamp) + pace
    theoretical = max(theoretical, now)
    if now + quota.burst * pace - theoretical < pace - 1e-9:  # no credit: the next round is due later
        wait, slots = max(wait, theoretical - (quota.burst - 1) * pace - now), 0
    slots = max(0, slots)
    return slots, (0.0 if slots else wait)


def _stamps(redis: Redis, key: str, longest: float, now: float) -> list[float]:
    """The stamps in a destination's sorted set within the longest window (older ones are dropped here)."""
    redis.zremrangebyscore(key, 0, now - longest)
    return [score for _, score in redis.zrangebyscore(key, now - longest, "+inf", withscores=True)]


def _room(redis: Redis, quota: Quota, box: str, now: float) -> tuple[int, float]:
    longest = max(max(seconds for _, seconds in quota.limits), quota.burst * quota.pace)
    return room(_stamps(redis, sent_key(quota.sink, box), longest, now),
                _stamps(redis, rounds_key(quota.sink, box), longest, now), quota, now)


def flush(redis: Redis, quota: Quota, box: str, send: Callable[..., dict],
          now: Callable[[], float] = time.time, edit: Callable[[str, dict], dict] | None = None) -> Flushed:
    """Send what the quota allows now. `send` posts one payload and returns the platform's JSON answer.

    `dockyard_notifications_sent` counts here, when the platform accepted a send (a digest is one
    message; `dockyard_notifications_events` counts what it carried), in the same transaction that
    takes the messages out of the outbox: a message is counted once, and only once it arrived.

    Where the destination can edit (`edit` given: platform message id, payload -> answer), waiting
    edits go first, half the slots at most while posts wait too, and a post alone is sent as
    `send(payload, ref=ref)` so its message can be edited later (bots/sinks/edits.py).
    """
    key = outbox_key(quota.sink, box)
    newest = edits.newest(redis, quota.sink, box) if edit else {}  # before the outbox: see edits.newest
    slots, _ = _room(redis, quota, box, now())
    sent = events = 0
    retry_after: float | None = None
    if edit and newest:  # a refused edit is queued as a post, so the outbox is read after this
        done = edits.flush(redis, quota, box, edit, slots if not redis.llen(key) else (slots + 1) // 2,
                           lambda: _record(redis, quota, box, now()),
                           lambda message, ref: push(redis, quota, box, message, ref), newest)
        slots, sent, events, retry_after = slots - done.used, done.sent, done.sent, done.retry_after
        if retry_after is not None:
            slots = 0
    entries = [edits.parse(raw) for raw in redis.lrange(key, 0, MAX_PENDING_READ - 1)]
    refs = [ref for _, ref in entries]
    pending = [Message.from_dict(json.loads(newest[ref])) if ref in newest else m for m, ref in entries]
    batches = plan(quota, pending, slots)
    later = max(0, redis.llen(key) - sum(len(b) for b in batches))
    offset = 0
    merged = len(pending) > min(slots, quota.burst)  # as plan() decided: digests, not messages alone
    for batch, payload in zip(batches, _payloads(quota, batches, merged, later)):
        batch_refs, offset = refs[offset:offset + len(batch)], offset + len(batch)
        alone = batch_refs[0] if len(batch) == 1 and batch_refs[0] else None
        try:
            answer = send(payload, ref=alone) if alone else send(payload)
        except Exception:
            metrics.inc(redis, "dockyard_notifications_failed", sink=quota.sink)
            raise
        if quota.error(answer) != 0:  # too fast, or refused: keep the messages; the caller logs why
            metrics.inc(redis, "dockyard_notifications_failed", sink=quota.sink)
            retry_after = quota.backoff
            break
        stamp = now()
        pipe = redis.pipeline()
        pipe.zadd(sent_key(quota.sink, box), {f"{stamp}:{uuid.uuid4().hex[:8]}": stamp})
        pipe.expire(sent_key(quota.sink, box), int(max(seconds for _, seconds in quota.limits)) * 2 + 1)
        pipe.lpop(key, len(batch))
        edits.posted(redis, pipe, quota.sink, box, batch_refs, quota.message_id(answer), newest)
        metrics.inc(pipe, "dockyard_notifications_sent", sink=quota.sink)
        metrics.inc(pipe, "dockyard_notifications_events", len(batch), sink=quota.sink)
        pipe.execute()
        sent += 1
        events += len(batch)
    if sent:  # a round that sent something spends the pace's credit
        stamp = now()
        redis.zadd(rounds_key(quota.sink, box), {f"{stamp}:{uuid.uuid4().hex[:8]}": stamp})
        redis.expire(rounds_key(quota.sink, box), int(quota.burst * quota.pace) * 2 + 1)
    waiting = redis.llen(key)
    if waiting and retry_after is None:
        at = now()
        # At least a second: the RQ scheduler that brings the flush back looks once a second.
        retry_after = max(1.0, _room(redis, quota, box, at)[1])
    return Flushed(sent, events, waiting, retry_after)


def _record(redis: Redis, quota: Quota, box: str, stamp: float) -> None:
    """Note one send (an edit) against the destination's quota windows."""
    pipe = redis.pipeline()
    pipe.zadd(sent_key(quota.sink, box), {f"{stamp}:{uuid.uuid4().hex[:8]}": stamp})
    pipe.expire(sent_key(quota.sink, box), int(max(seconds for _, seconds in quota.limits)) * 2 + 1)
    pipe.execute()


def schedule_flush(redis: Redis, settings: Settings, sink: str, box: str, delay: float | None = None) -> None:
    """Make sure one flush job for the destination is queued (or scheduled after `delay` seconds)."""
    if not redis.set(pending_key(sink, box), "1", nx=True, ex=int(delay or 0) + 120):
        return
    enqueue(redis, settings, FLUSH_QUEUE, FLUSH_JOB, f"{sink}-flush", delay=delay, sink=sink, box=box)


class OutboxSink:
    """A sink whose every message waits in the shared outbox: post() queues it; update() queues an
    edit where the destination can edit (`edits(target)`), else posts anew.

    Subclasses name the target key that means one person's or chat's direct line (`direct`, with
    its box prefix), the delivery module that knows the quotas and robot URLs (and, where its
    direct line can edit, `edit`), and override `edits`.
    """

    name: str
    direct: str  # the target key of the platform's direct destination ("user", "chat")
    direct_prefix: str  # its box prefix in the outbox
    delivery: Any  # module with quota(box), robot_url(settings, robot), send and (where it can) edit

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    @classmethod
    def from_runtime(cls, rt: Any) -> "OutboxSink":
        return cls(rt.redis, rt.settings)

    def box(self, target: dict) -> str:
        if target.get(self.direct):
            return f"{self.direct_prefix}{target[self.direct]}"
        robot = target.get("robot") or "default"
        self.delivery.robot_url(self.settings, robot)  # an unknown robot fails now, not in the outbox
        return robot

    def edits(self, target: dict) -> bool:
        return False  # robots cannot edit: a changed headline arrives as a new message

    def post(self, target: dict, message: Message) -> str:
        box = self.box(target)
        ref = edits.new_ref(QUEUED, box) if self.edits(target) else None
        push(self.redis, self.delivery.quota(box), box, message, ref)
        schedule_flush(self.redis, self.settings, self.name, box)
        return ref or f"{QUEUED}{box}:{uuid.uuid4().hex[:8]}"

    def update(self, target: dict, ref: str, message: Message) -> str:
        box = self.box(target)
        if not (self.edits(target) and ref.startswith(f"{QUEUED}{box}:")):
            return self.post(target, message)  # a ref from elsewhere (an older robot post): a new message
        edits.queue_edit(self.redis, self.name, box, ref, message)
        schedule_flush(self.redis, self.settings, self.name, box)
        return ref
