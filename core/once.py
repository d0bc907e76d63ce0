"""Accept a thing once: replay protection for requests whose signature does not cover everything."""

from __future__ import annotations

import hashlib

from redis import Redis


def first_time(redis: Redis, kind: str, value: str, ttl_seconds: int) -> bool:
    """True the first time `value` of `kind` is seen within ttl_seconds; False for every replay.

    The value is hashed, so signatures and message ids never sit in Redis as they came.
    """
    digest = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    return bool(redis.set(f"dockyard:seen:{kind}:{digest}", "1", nx=True, ex=max(1, ttl_seconds)))
