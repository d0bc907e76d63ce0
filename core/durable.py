"""Make what a request accepted durable in one Redis round trip: its dedupe key and every write, or nothing.

A webhook or chat command must record several things (the delivery as seen, its job, an audit
entry, counters). Sent one by one they cost a round trip each, and a crash between them could
mark a delivery seen without its job. Here the writes are recorded on a redis-py pipeline that
is never executed (RQ's `enqueue(pipeline=...)`, `audit.record_in`, `metrics.inc` all take one),
then run by one Lua script: it sets the guard key only if absent, and only then replays every
write. Redis runs a script atomically, so either all of it happened or none.
"""

from __future__ import annotations

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

# ARGV: guard key ('' for none), its TTL in seconds, then each command as its length followed by its words.
REPLAY = """
if ARGV[1] ~= '' then
  if not redis.call('SET', ARGV[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
end
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1
"""


def batch(redis: Redis) -> Pipeline:
    """A pipeline to record writes on; hand it to commit(), never execute it yourself."""
    return redis.pipeline(transaction=False)


class NotReplicated(RedisError):
    """The writes reached the primary but not enough replicas in time: answer 503, let the sender retry.

    The retry finds its dedupe key (if the primary survived) and is answered "duplicate", or, after a
    failover that lost the writes, is accepted anew: either way it is processed once.
    """


def commit(redis: Redis, writes: Pipeline, guard: str | None = None, ttl: int = 86400, replicas: int = 0,
           wait_ms: int = 1000) -> bool:
    """Run every recorded write in one round trip; with `guard`, only if that key was not set yet.

    Returns False (and writes nothing) when the guard key already existed: a duplicate delivery.
    With `replicas`, waits (Redis WAIT, a second round trip) until that many replicas hold the writes,
    else raises NotReplicated: a 2xx then means the writes survive the primary's death.
    """
    argv: list = [guard or "", ttl]
    for args, _options in writes.command_stack:
        argv.append(len(args))
        argv.extend(args)
    writes.reset()
    script = redis.register_script(REPLAY)  # EVALSHA; loaded on the first NOSCRIPT answer
    done = bool(script(keys=[], args=argv))
    if done and replicas:
        acked = redis.wait(replicas, wait_ms)
        if acked < replicas:
            raise NotReplicated(f"{acked} of {replicas} Redis replicas acknowledged the writes within {wait_ms} ms")
    return done
