"""A Redis lease with a fencing token: one holder at a time, taken over within seconds when it dies.

Every acquisition gets a new, larger token. Work done under the lease is
fenced: it commits only while the token is still the current one (a WATCH on
`token_key`), so a holder that paused past its lease cannot act after its successor.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]))
end
if holder then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])
"""
@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    ttl_ms: int = 6000

    @property
    def key(self) -> str:
        return f"dockyard:lease:{self.name}"

    @property
    def token_key(self) -> str:
        return f"dockyard:lease:{self.name}:token"

    def acquire(self, redis: Redis) -> int | None:
        """Take or renew the lease; the fencing token while held, None while someone else holds it."""
        token = int(redis.eval(ACQUIRE, 2, self.key, self.token_key, self.holder, self.ttl_ms))
        return token if token > 0 else None

    def release(self, redis: Redis) -> None:
        redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
                   "return 0", 1, self.key, self.holder)
