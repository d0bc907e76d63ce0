"""Messages held for a channel's quiet hours, delivered as one digest when the hours end (state/holds.py keeps them)."""

from __future__ import annotations

from datetime import datetime, timezone

from bots import replies
from bots.message import Message
from core import runtime
from jobs.notify import deliver
from rules import routing
from state import holds


def hold(channel: str, message: Message) -> None:
    holds.hold(runtime.get().redis, channel, message)


def flush(now: datetime | None = None) -> dict[str, int]:
    """Deliver what waited, for every channel whose quiet hours are over; returns counts by channel."""
    rt = runtime.get()
    now = now or datetime.now(timezone.utc)
    sent = {}
    for name, channel in rt.rules.routing.channels.items():
        if routing.quiet_now(channel.quiet_hours, now, channel.timezone):
            continue
        waiting = holds.held(rt.redis, name)
        if not waiting:
            continue
        locale = routing.style_of(rt.rules, rt.settings, {}, name).locale
        deliver(routing.target(channel), replies.held_digest(waiting, locale))
        holds.release(rt.redis, name, len(waiting))
        sent[name] = len(waiting)
    return sent
