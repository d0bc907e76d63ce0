"""Make what a request accepted durable in one Redis round trip: its dedupe key and every write, or nothing.

A webhook or chat command must record several things (the delivery as seen, its job, an audit
entry, counters). Sent one by one they cost a round trip each, and a crash between them could
mark a delivery seen without its job. Here the writes are recorded first (on `Writes`, or on a
redis-py pipeline that is never executed: RQ's `enqueue(pipeline=...)`, `audit.record_in`,
`metrics.inc` take one), then run by one Lua script: if the guard key is absent it replays every
write, then sets the guard. Redis runs a script atomically (nothing else runs in between), so a
delivery is never marked seen without its writes.

The writes travel as one MessagePack argument that the script unpacks with Redis's own `cmsgpack`:
an RQ job alone is some forty words, and redis-py encoding each one as its own script argument
cost more than the rest of the request (issue #18). Commands that never change (a counter of a
fixed endpoint) are packed once per process (`pack` + `Writes.add_packed`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from struct import pack as _struct

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import NoScriptError, RedisError

# ARGV: guard key ('' for none), its TTL in seconds, the commands (a MessagePack array of arrays of strings).
REPLAY = """
local commands = cmsgpack.unpack(ARGV[3])
if ARGV[1] ~= '' and redis.call('EXISTS', ARGV[1]) == 1 then return 0 end
for _, command in ipairs(commands) do
  redis.call(unpack(command))
end
-- the guard last: a write that fails (a key of the wrong type) leaves the delivery unseen, so its retry runs
if ARGV[1] ~= '' then redis.call('SET', ARGV[1], '1', 'EX', ARGV[2]) end
return 1
"""
REPLAY_SHA = hashlib.sha1(REPLAY.encode()).hexdigest()
Word = bytes | str | int | float

# Redis's cmsgpack predates MessagePack's bin types: bytes go as (binary-safe) raw strings, fixraw/raw16/raw32.
_FIXRAW = [bytes([0xA0 | n]) for n in range(32)]
_FIXARRAY = [bytes([0x90 | n]) for n in range(16)]


def raw(value: Word) -> bytes:
    """A word as the bytes Redis receives, encoded the way redis-py would (str as UTF-8, numbers as repr)."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value).encode()
    raise TypeError(f"a Redis word is bytes, str, int or float, not {type(value).__name__}")


def packed_word(data: bytes) -> bytes:
    """One word's bytes as MessagePack, for a command whose other words were packed already (array())."""
    size = len(data)
    if size < 32:
        return _FIXRAW[size] + data
    if size < 0x10000:
        return b"\xda" + _struct(">H", size) + data
    return b"\xdb" + _struct(">I", size) + data


def array(count: int) -> bytes:
    """The head of a command of `count` words (each then packed_word())."""
    if count < 16:
        return _FIXARRAY[count]
    return b"\xdc" + _struct(">H", count) if count < 0x10000 else b"\xdd" + _struct(">I", count)


def pack(words: Iterable[Word]) -> bytes:
    """One Redis command, packed for Writes.add_packed: pack once what is the same for every request."""
    packed = [packed_word(raw(w)) for w in words]
    return array(len(packed)) + b"".join(packed)


class Writes:
    """Redis commands recorded for commit(), packed as they are added; cheaper than a redis-py pipeline."""

    __slots__ = ("packed", "count")

    def __init__(self) -> None:
        self.packed: list[bytes] = []
        self.count = 0

    def add(self, *words: Word) -> None:
        self.packed.append(pack(words))
        self.count += 1

    def add_packed(self, commands: bytes, count: int = 1) -> None:
        """`count` commands from pack(), one after the other (made once, or filled in per request)."""
        self.packed.append(commands)
        self.count += count


def batch(redis: Redis) -> Pipeline:
    """A pipeline to record writes on (for RQ's enqueue); hand it to commit(), never execute it yourself."""
    return redis.pipeline(transaction=False)


class NotReplicated(RedisError):
    """The writes reached the primary but not enough replicas in time: answer 503, let the sender retry.

    The retry finds its dedupe key (if the primary survived) and is answered "duplicate", or, after a
    failover that lost the writes, is accepted anew: either way it is processed once.
    """


def _commands(writes: Pipeline | Writes) -> bytes:
    if isinstance(writes, Writes):
        return array(writes.count) + b"".join(writes.packed)
    commands = [pack(args) for args, _options in writes.command_stack]
    writes.reset()
    return array(len(commands)) + b"".join(commands)


def commit(redis: Redis, writes: Pipeline | Writes, guard: str | None = None, ttl: int = 86400, replicas: int = 0,
           wait_ms: int = 1000) -> bool:
    """Run every recorded write in one round trip; with `guard`, only if that key was not set yet.

    Returns False (and writes nothing) when the guard key already existed: a duplicate delivery.
    With `replicas`, waits (Redis WAIT, a second round trip) until that many replicas hold the writes,
    else raises NotReplicated: a 2xx then means the writes survive the primary's death.
    """
    args = (guard or "", ttl, _commands(writes))
    try:
        done = bool(redis.evalsha(REPLAY_SHA, 0, *args))
    except NoScriptError:  # a fresh or restarted Redis: the script travels once, then by its SHA
        done = bool(redis.eval(REPLAY, 0, *args))
    if done and replicas:
        acked = redis.wait(replicas, wait_ms)
        if acked < replicas:
            raise NotReplicated(f"{acked} of {replicas} Redis replicas acknowledged the writes within {wait_ms} ms")
    return done
