"""The newest image of each service: what an untagged `/deploy <svc>` rolls out.

Builds record their tag here when they succeed; `./dockyard demo seed`
records a demo tag so the local run has something to deploy.
"""

from __future__ import annotations

import json
import time

from redis import Redis


def _key(service: str) -> str:
    return f"dockyard:images:{service}"


def record(redis: Redis, service: str, tag: str, source: str) -> None:
    """Remember `tag` as the newest image of `service` (source: 'build abc123', 'demo seed', ...)."""
    redis.set(_key(service), json.dumps({"tag": tag, "source": source, "at": time.time()}))


def latest(redis: Redis, service: str) -> dict | None:
    raw = redis.get(_key(service))
    return json.loads(raw) if raw else None


def mark_ran_in_test(redis: Redis, service: str, tag: str) -> None:
    """A rollout of this tag finished healthy in test: prod may take it."""
    redis.sadd(f"dockyard:ran-in-test:{service}", tag)


def ran_in_test(redis: Redis, service: str, tag: str) -> bool:
    return bool(redis.sismember(f"dockyard:ran-in-test:{service}", tag))
