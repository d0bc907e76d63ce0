"""The newest image of each service: what an untagged `/deploy <svc>` rolls out.

Builds record their tag here when they succeed; `./dockyard demo seed`
records a demo tag so the local run has something to deploy. A tag that
finished a healthy rollout in an environment is remembered there too: the
environment after it in the catalog's order takes only such tags.
"""

from __future__ import annotations

import json
import time

from redis import Redis

from rules.models import Rules


def _key(service: str) -> str:
    return f"dockyard:images:{service}"


def record(redis: Redis, service: str, tag: str, source: str) -> None:
    """Remember `tag` as the newest image of `service` (source: 'build abc123', 'demo seed', ...)."""
    redis.set(_key(service), json.dumps({"tag": tag, "source": source, "at": time.time()}))


def latest(redis: Redis, service: str) -> dict | None:
    raw = redis.get(_key(service))
    return json.loads(raw) if raw else None


def _passed_key(service: str, env: str) -> str:
    return f"dockyard:ran-in-{env}:{service}"  # for test, the key older Dockyards kept


def mark_passed(redis: Redis, service: str, env: str, tag: str) -> None:
    """A rollout of this tag finished healthy in `env`: the environment after it may take it."""
    redis.sadd(_passed_key(service, env), tag)


def passed(redis: Redis, service: str, env: str, tag: str) -> bool:
    return bool(redis.sismember(_passed_key(service, env), tag))


def unproven(redis: Redis, rules: Rules, service: str, env: str, tag: str) -> str | None:
    """Why `env` may not take this tag yet (it never passed the environment before), or None when it may."""
    before = rules.catalog.previous_environment(service, env)
    if before is None or passed(redis, service, before, tag):
        return None
    return (f"{service}:{tag} has not run successfully in {before}; deploy it there first "
            f"(/deploy {service} {tag} to {before}), or an SRE may add --break-glass <reason>")
