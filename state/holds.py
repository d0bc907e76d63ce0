"""What is held back: messages waiting for a channel's quiet hours to end, and services whose health messages are muted."""

from __future__ import annotations

import json

from redis import Redis

from bots.message import Message


def _held_key(channel: str) -> str:
    return f"dockyard:held:{channel}"


def hold(redis: Redis, channel: str, message: Message) -> None:
    redis.rpush(_held_key(channel), json.dumps(message.to_dict()))


def held(redis: Redis, channel: str) -> list[Message]:
    return [Message.from_dict(json.loads(raw)) for raw in redis.lrange(_held_key(channel), 0, -1)]


def release(redis: Redis, channel: str, count: int) -> None:
    """Drop the first `count` held messages (delivered); any held since stay for the next time."""
    redis.ltrim(_held_key(channel), count, -1)


def mute(redis: Redis, service: str, seconds: int) -> None:
    """`/silence <service> <duration>`: hold the service's health messages (incidents still count)."""
    redis.set(f"dockyard:mute:{service}", "1", ex=seconds)


def muted(redis: Redis, service: str) -> bool:
    return bool(redis.exists(f"dockyard:mute:{service}"))
