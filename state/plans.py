"""A canary plan in flight: its steps, where it is, its failures in a row, and its message."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from redis import Redis

KEEP_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Plan:
    id: str
    service: str
    env: str
    image_tag: str | None
    steps: tuple[int, ...]
    every_seconds: int
    who: str
    reply_to: dict
    index: int = 0  # the step whose weight is live
    failures: int = 0  # analysis failures in a row
    status: str = "running"  # running | paused | promoted | aborted
    readings: tuple[dict, ...] = ()  # the last analysis, for the message
    ref: str | None = None  # the plan's message, edited in place
    history: tuple[str, ...] = field(default=())  # one line per step

    def with_(self, **changes) -> "Plan":
        return replace(self, **changes)


def _key(service: str, env: str) -> str:
    return f"dockyard:plan:{service}:{env}"


def save(redis: Redis, plan: Plan) -> None:
    redis.set(_key(plan.service, plan.env), json.dumps(asdict(plan)), ex=KEEP_SECONDS)


def load(redis: Redis, service: str, env: str) -> Plan | None:
    raw = redis.get(_key(service, env))
    if raw is None:
        return None
    data = json.loads(raw)
    for name in ("steps", "readings", "history"):
        data[name] = tuple(data[name])
    return Plan(**data)
