"""Freezes: an environment refuses changes until a time (/freeze), or inside a recurring window (policy.yaml).

The manual freeze is a Redis key that expires when the freeze ends, so a
forgotten /unfreeze never holds an environment for ever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from redis import Redis

from rules.models import Rules
from rules.policy_model import WEEKDAYS, FreezeWindow


@dataclass(frozen=True)
class Freeze:
    """Why an environment is frozen, by whom, until when (None: until the recurring window ends)."""

    env: str
    by: str
    reason: str
    until: datetime | None


def _key(env: str) -> str:
    return f"dockyard:freeze:{env}"


def start(redis: Redis, env: str, until: datetime, by: str, reason: str, now: datetime | None = None) -> Freeze:
    now = now or datetime.now(timezone.utc)
    seconds = max(1, int((until - now).total_seconds()))
    redis.set(_key(env), json.dumps({"by": by, "reason": reason, "until": until.isoformat()}), ex=seconds)
    return Freeze(env, by, reason, until)


def lift(redis: Redis, env: str) -> Freeze | None:
    """End a manual freeze; returns the one that was in force, if any."""
    current = manual(redis, env)
    redis.delete(_key(env))
    return current


def manual(redis: Redis, env: str) -> Freeze | None:
    raw = redis.get(_key(env))
    if raw is None:
        return None
    data = json.loads(raw)
    return Freeze(env, data["by"], data["reason"], datetime.fromisoformat(data["until"]))


def _in_window(window: FreezeWindow, local: datetime) -> bool:
    if window.weekdays and WEEKDAYS[local.weekday()] not in window.weekdays:
        return False
    if window.dates and local.strftime("%Y-%m-%d") not in window.dates:
        return False
    if window.start and window.end:
        clock = local.strftime("%H:%M")
        inside = window.start <= clock < window.end if window.start <= window.end else \
            clock >= window.start or clock < window.end
        if not inside:
            return False
    return True


def recurring(rules: Rules, env: str, now: datetime, zone: str = "UTC") -> Freeze | None:
    """The policy's recurring window that holds `env` at `now`, if any. Pure."""
    local = now.astimezone(ZoneInfo(zone))
    for window in rules.policy.freezes:
        if env in window.envs or "*" in window.envs:
            if _in_window(window, local):
                return Freeze(env, "policy.yaml", window.reason, _window_end(window, local))
    return None


def _window_end(window: FreezeWindow, local: datetime) -> datetime | None:
    """When a time-of-day window ends today (or tomorrow); None for whole-day windows."""
    if not window.end:
        return None
    hour, minute = map(int, window.end.split(":"))
    end = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


def active(redis: Redis, rules: Rules, env: str, now: datetime | None = None, zone: str = "UTC") -> Freeze | None:
    """The freeze holding `env` now: a manual one first, else a recurring window."""
    now = now or datetime.now(timezone.utc)
    return manual(redis, env) or recurring(rules, env, now, zone)
