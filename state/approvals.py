"""An approval's Redis record: pending → approved, rejected or expired, decided exactly once."""

from __future__ import annotations

import json
import time

from redis import Redis

KEY = "dockyard:approval:{}"
KEEP_SECONDS = 7 * 86400  # a decided approval stays readable for the audit and late clicks
JSON_FIELDS = ("command", "reply_to", "refs", "approver_roles")
# One compare-and-set: when two approvers click at the same moment exactly one wins.
DECIDE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status ~= 'pending' then return status end
if ARGV[1] ~= 'expired' and tonumber(redis.call('HGET', KEYS[1], 'expires')) < tonumber(ARGV[3]) then
  return 'expired'
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decided_by', ARGV[2], 'decided_at', ARGV[3], 'reason', ARGV[4])
return 'ok'
"""


def save(redis: Redis, record: dict) -> None:
    """Store a new approval (its JSON fields already encoded)."""
    key = KEY.format(record["id"])
    with redis.pipeline() as pipe:
        pipe.hset(key, mapping={k: str(v) for k, v in record.items()})
        pipe.expire(key, KEEP_SECONDS)
        pipe.execute()


def load(redis: Redis, approval_id: str) -> dict | None:
    raw = redis.hgetall(KEY.format(approval_id))
    if not raw:
        return None
    data = {k.decode(): v.decode() for k, v in raw.items()}
    for key in JSON_FIELDS:
        data[key] = json.loads(data[key])
    data["expires"] = float(data["expires"])
    return data


def scope(redis: Redis, approval_id: str) -> tuple[str | None, str | None]:
    """(service, env) an approval is for, or (None, None) when there is no such approval."""
    service, env = redis.hmget(KEY.format(approval_id), "service", "env")
    return (service.decode() if service else None), (env.decode() if env else None)


def set_refs(redis: Redis, approval_id: str, refs: list[dict]) -> None:
    """Where the request was posted, so the decision can replace it."""
    redis.hset(KEY.format(approval_id), "refs", json.dumps(refs))


def decide(redis: Redis, approval_id: str, status: str, who: str, reason: str = "") -> tuple[str, dict | None]:
    """('ok' | 'missing' | 'expired' | the status it already has, the record after)."""
    result = redis.eval(DECIDE, 1, KEY.format(approval_id), status, who, str(time.time()), reason)
    return (result.decode() if isinstance(result, bytes) else result), load(redis, approval_id)
