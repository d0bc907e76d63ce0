"""Deliver a message to where a command came from, once, whatever the retries."""

from __future__ import annotations

import logging
from dataclasses import replace

from redis import Redis

from bots import i18n
from bots.message import Message
from bots.sinks import outbox
from bots.sinks.base import SinkError
from bots.sinks.registry import get_sink
from core import metrics, runtime
from rules import routing

log = logging.getLogger("dockyard.notify")
DEDUPE_TTL = 86400


def deliver(reply_to: dict, message: Message, dedupe_key: str | None = None) -> str | None:
    """Post `message` to reply_to's sink; with a dedupe_key, a retried job doesn't post twice."""
    redis = runtime.get().redis
    sink_name = reply_to.get("sink", "console")
    if dedupe_key:
        key = f"dockyard:delivered:{dedupe_key}"
        seen = redis.get(key)
        if seen is not None:
            return seen.decode()
    try:
        ref = get_sink(sink_name).post(reply_to, titled(reply_to, message))
    except SinkError:
        metrics.inc(redis, "dockyard_notifications_failed", sink=sink_name)
        raise
    count_sent(redis, sink_name, ref)
    if dedupe_key:
        redis.set(f"dockyard:delivered:{dedupe_key}", ref, ex=DEDUPE_TTL)
    return ref


def show(target: dict, message: Message, ref: str | None = None) -> str:
    """Post `message` to a target, or edit the message `ref` names; returns the ref to edit next time."""
    redis = runtime.get().redis
    sink_name = target.get("sink", "console")
    sink = get_sink(sink_name)
    if ref and not sink.edits(target) and message.severity == "info":
        return ref  # an intermediate update (progress) a sink that cannot edit would only repeat
    message = titled(target, message)
    try:
        new_ref = sink.update(target, ref, message) if ref else sink.post(target, message)
    except SinkError:
        metrics.inc(redis, "dockyard_notifications_failed", sink=sink_name)
        raise
    count_sent(redis, sink_name, new_ref)
    return new_ref


def locale_of(reply_to: dict) -> str:
    """The language of the channel the command came from (its `locale:`), else DOCKYARD_LOCALE."""
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, reply_to).locale


def titled(target: dict, message: Message) -> Message:
    """The title with the target's prefix (DOCKYARD_MESSAGE_PREFIX or its channel's `prefix:`) first, and the
    channel's locale on the message.

    Every chat platform gets it: a DingTalk robot secured by a custom keyword refuses any message
    without the keyword. The console is a terminal, with no robot to satisfy.
    """
    if target.get("sink", "console") == "console":
        return message
    rt = runtime.get()
    style = routing.style_of(rt.rules, rt.settings, target)
    # the channel's language also for the words a sink adds itself (the line where a size cut left lines out)
    return replace(message, title=i18n.prefixed(message.title, style.prefix), locale=style.locale)


def count_sent(redis: Redis, sink_name: str, ref: str) -> None:
    """Count a message the sink delivered itself; one it queued is counted when the outbox sends it."""
    if not outbox.queued(ref):
        metrics.inc(redis, "dockyard_notifications_sent", sink=sink_name)
        metrics.inc(redis, "dockyard_notifications_events", sink=sink_name)
