"""The per-process runtime: settings, rules and the Redis connection, built once.

Web, worker, watcher and CLI each build it at start-up (so bad config stops
them there); RQ jobs, which only receive plain data, reach it through get().
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from redis import Redis

from core import redis_url
from core.config import Settings, from_env
from rules import Rules, load_rules


@dataclass
class Runtime:
    settings: Settings
    rules: Rules

    @cached_property
    def redis(self) -> Redis:
        return redis_url.connect(self.settings.redis_url)  # one server, or the primary a Sentinel set names


_current: Runtime | None = None


def build(settings: Settings | None = None) -> Runtime:
    """Read config and rules; raises ConfigError or RulesError with a message for people."""
    settings = settings or from_env()
    return Runtime(settings=settings, rules=load_rules(settings.rules_dir))


def install(runtime: Runtime) -> Runtime:
    """Make this the process's runtime (what jobs see)."""
    global _current
    _current = runtime
    return runtime


def get() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    return _current or install(build())
