"""Changes to run at a time (timed deploys): a record per schedule and a sorted set by due time."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from redis import Redis

DUE = "dockyard:schedules:due"  # schedule id scored by when it runs (epoch seconds)


@dataclass(frozen=True)
class Schedule:
    id: str
    at: float  # epoch seconds
    command: dict  # what runs (a Command's dict), approved already where that was needed
    text: str  # as typed, for lists and messages
    who: str
    reply_to: dict


def _key(schedule_id: str) -> str:
    return f"dockyard:schedule:{schedule_id}"


def add(redis: Redis, at: float, command: dict, text: str, who: str, reply_to: dict,
        schedule_id: str | None = None) -> Schedule:
    """Put a change on the schedule; the same `schedule_id` twice (a retried job) adds it once."""
    schedule = Schedule(schedule_id or "s" + secrets.token_hex(3), at, command, text, who, reply_to)
    if redis.set(_key(schedule.id), json.dumps(asdict(schedule)), nx=True):
        redis.zadd(DUE, {schedule.id: at})
    return get(redis, schedule.id) or schedule


def get(redis: Redis, schedule_id: str) -> Schedule | None:
    raw = redis.get(_key(schedule_id))
    return Schedule(**json.loads(raw)) if raw else None


def pending(redis: Redis) -> list[Schedule]:
    """Every schedule still to run, soonest first."""
    found = [get(redis, ident.decode()) for ident in redis.zrange(DUE, 0, -1)]
    return [s for s in found if s is not None]


def due(redis: Redis, now: float) -> list[Schedule]:
    found = [get(redis, ident.decode()) for ident in redis.zrangebyscore(DUE, "-inf", now)]
    return [s for s in found if s is not None]


def cancel(redis: Redis, schedule_id: str) -> Schedule | None:
    schedule = get(redis, schedule_id)
    with redis.pipeline() as pipe:
        pipe.zrem(DUE, schedule_id)
        pipe.delete(_key(schedule_id))
        pipe.execute()
    return schedule


def done(redis: Redis, schedule_id: str) -> None:
    """Fired: off the due list (the record stays a day, for the job that runs it)."""
    with redis.pipeline() as pipe:
        pipe.zrem(DUE, schedule_id)
        pipe.expire(_key(schedule_id), 86400)
        pipe.execute()
