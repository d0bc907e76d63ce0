"""Messages held for a channel's quiet hours, delivered as one digest when the hours end."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bots import replies
from bots.message import Message
from core import runtime
from jobs.notify import deliver
from rules import routing


def _key(channel: str) -> str:
    return f"dockyard:held:{channel}"


def hold(channel: str, message: Message) -> None:
    runtime.get().redis.rpush(_key(channel), json.dumps(message.to_dict()))


def flush(now: datetime | None = None) -> dict[str, int]:
    """Deliver what waited, for every channel whose quiet hours are over; returns counts by channel."""
    rt = runtime.get()
    now = now or datetime.now(timezone.utc)
    sent = {}
    for name, channel in rt.rules.routing.channels.items():
        if routing.quiet_now(channel.quiet_hours, now):
            continue
        raw = rt.redis.lrange(_key(name), 0, -1)
        if not raw:
            continue
        held = [Message.from_dict(json.loads(r)) for r in raw]
        deliver(routing.target(channel), replies.held_digest(held))
        rt.redis.ltrim(_key(name), len(raw), -1)
        sent[name] = len(held)
    return sent
