"""One rollout per service and environment: a Redis lock with an owner and an expiry."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from redis import Redis

RELEASE = """
local held = redis.call('GET', KEYS[1])
if held and cjson.decode(held)['rollout'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Holder:
    """Who holds a service's rollout lock, and for what."""

    rollout: str  # id shared by every job of one rollout (a canary and its promote)
    user: str
    what: str  # "canary 10%", "rolling to 20261122-alice"
    kind: str  # rolling | canary | preview | rollback
    since: float = 0.0


def _key(service: str, env: str) -> str:
    return f"dockyard:lock:{service}:{env}"


def holder(redis: Redis, service: str, env: str) -> Holder | None:
    raw = redis.get(_key(service, env))
    return Holder(**json.loads(raw)) if raw else None


def acquire(redis: Redis, service: str, env: str, me: Holder, ttl: int) -> Holder | None:
    """Take the lock; returns None on success, else the current holder.

    The same rollout may take it again (a retried job, or a canary changing its weight).
    """
    me = Holder(**{**asdict(me), "since": me.since or time.time()})
    key = _key(service, env)
    if redis.set(key, json.dumps(asdict(me)), nx=True, ex=ttl):
        return None
    current = holder(redis, service, env)
    if current is None:  # expired between the two calls
        return acquire(redis, service, env, me, ttl)
    if current.rollout == me.rollout:
        redis.set(key, json.dumps(asdict(Holder(**{**asdict(me), "since": current.since}))), ex=ttl)
        return None
    return current


def release(redis: Redis, service: str, env: str, rollout: str) -> bool:
    """Release the lock if this rollout holds it."""
    return bool(redis.eval(RELEASE, 1, _key(service, env), rollout))


def busy_message(service: str, env: str, current: Holder) -> str:
    return f"{service} ({env}) is being deployed by {current.user}, {current.what} — wait, or /deploy {service} abort"


def clear(redis: Redis, service: str, env: str) -> bool:
    """Drop a lock whoever holds it: only for a cluster that was just created, where nothing is in flight."""
    return bool(redis.delete(_key(service, env)))


def release_rollout(redis: Redis, rollout: str) -> list[str]:
    """Release every service lock a rollout holds (its job failed for good); returns the keys freed."""
    freed = []
    for key in redis.scan_iter("dockyard:lock:*"):
        raw = redis.get(key)
        if raw and json.loads(raw).get("rollout") == rollout and redis.eval(RELEASE, 1, key, rollout):
            freed.append(key.decode())
    return freed
