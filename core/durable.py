"""Make what a request accepted durable in one Redis round trip: its dedupe key and every write, or nothing.

A webhook or chat command must record several things (the delivery as seen, its job, an audit
entry, counters). Sent one by one they cost a round trip each, and a crash between them could
mark a delivery seen without its job. Here the writes are recorded first (on `Writes`, or on a
redis-py pipeline that is never executed: RQ's `enqueue(pipeline=...)`, `audit.record_in`,
`metrics.inc` take one), then run by one Lua script: if the guard key is absent it replays every
write, then sets the guard. Redis runs a script atomically (nothing else runs in between), so a
delivery is never marked seen without its writes.

The writes travel as the script's own arguments, each command as its word count and its words,
already in Redis's wire format (RESP): an RQ job alone is some forty words, and having redis-py
encode each of them, or Redis unpack them from one MessagePack argument, cost more than the rest of
the request (issue #18). Commands that never change (a counter of a fixed endpoint) are packed once
per process (`pack` + `Writes.add_packed`). The script goes out on a connection each thread keeps
(see _line), with redis-py's own retry policy.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple

from redis import Redis
from redis.client import Pipeline
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# ARGV: guard key ('' for none), its TTL in seconds, '1' to touch the guard of a duplicate, then each command
# as its word count and its words.
REPLAY = """
if ARGV[1] ~= '' and redis.call('EXISTS', ARGV[1]) == 1 then
  -- a write, so that a WAIT after it covers the first delivery's writes, which came before it
  if ARGV[3] == '1' then redis.call('EXPIRE', ARGV[1], ARGV[2]) end
  return 0
end
local i, last = 4, #ARGV
while i <= last do
  local count = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + count))
  i = i + count + 1
end
-- the guard last: a write that fails (a key of the wrong type) leaves the delivery unseen, so its retry runs
if ARGV[1] ~= '' then redis.call('SET', ARGV[1], '1', 'EX', ARGV[2]) end
return 1
"""
REPLAY_SHA = hashlib.sha1(REPLAY.encode()).hexdigest()
Word = bytes | str | int | float


class Packed(NamedTuple):
    """Commands in the script's argument format, and how many arguments (words) they make."""

    data: bytes
    words: int


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
    """One word's bytes as a RESP bulk string, for a command whose other words were packed already (array())."""
    return b"$%d\r\n%b\r\n" % (len(data), data)


def array(count: int) -> bytes:
    """The head of a command of `count` words (each then packed_word()); it is one word itself."""
    return packed_word(b"%d" % count)


def pack(words: Iterable[Word]) -> Packed:
    """One Redis command, packed for Writes.add_packed: pack once what is the same for every request."""
    packed = [packed_word(raw(w)) for w in words]
    return Packed(array(len(packed)) + b"".join(packed), 1 + len(packed))


class Writes:
    """Redis commands recorded for commit(), packed as they are added; cheaper than a redis-py pipeline."""

    __slots__ = ("packed", "words")

    def __init__(self) -> None:
        self.packed: list[bytes] = []
        self.words = 0

    def add(self, *words: Word) -> None:
        self.add_packed(pack(words))

    def add_packed(self, commands: Packed) -> None:
        """Commands from pack() (made once, or filled in per request), one after the other."""
        self.packed.append(commands.data)
        self.words += commands.words


def batch(redis: Redis) -> Pipeline:
    """A pipeline to record writes on (for RQ's enqueue); hand it to commit(), never execute it yourself."""
    return redis.pipeline(transaction=False)


class NotReplicated(RedisError):
    """The writes reached the primary but not enough replicas in time: answer 503, let the sender retry.

    The retry finds its dedupe key (if the primary survived) and is answered "duplicate", or, after a
    failover that lost the writes, is accepted anew: either way it is processed once.
    """


def _writes(writes: Pipeline | Writes) -> Writes:
    if isinstance(writes, Writes):
        return writes
    recorded = Writes()
    for args, _options in writes.command_stack:
        recorded.add_packed(pack(args))
    writes.reset()
    return recorded


_EVALSHA = packed_word(b"EVALSHA") + packed_word(REPLAY_SHA.encode()) + packed_word(b"0")
_EVAL = packed_word(b"EVAL") + packed_word(REPLAY.encode()) + packed_word(b"0")


class _Line:
    """A connection one thread keeps to one Redis client, and when it last answered."""

    __slots__ = ("redis", "conn", "used")

    def __init__(self, redis: Redis, conn: Connection):
        self.redis, self.conn, self.used = redis, conn, 0.0


class _Lines(threading.local):
    """Each thread's own connection per Redis client, for commit() alone."""

    def __init__(self) -> None:
        self.by_client: dict[int, _Line] = {}


_lines = _Lines()
_KEPT = 8  # clients a thread keeps a line to (a process has one or two; tests make many)
IDLE_CHECK = 1.0  # seconds: a line quiet this long is checked before use (Redis may have restarted meanwhile)


def _forget_lines() -> None:
    _lines.by_client.clear()  # a forked child must not share its parent's sockets


os.register_at_fork(after_in_child=_forget_lines)


def _line(redis: Redis) -> _Line:
    """This thread's line to `redis`, its connection made from the client's own pool settings (Sentinel too).

    A pooled connection is checked for unread data at every checkout (three system calls, more than
    the script costs to send). A line only this thread uses is always read to the end of an answer
    or dropped, so it holds none; it is checked only after being quiet for IDLE_CHECK, to notice a
    Redis that closed it (a restart) before sending on it, as the pool's checkout does.
    """
    found = _lines.by_client.get(id(redis))
    if found is not None and found.redis is redis:  # the entry holds its client, so that id is not reused
        if time.monotonic() - found.used > IDLE_CHECK:
            try:
                if found.conn.can_read():  # unread bytes on a quiet line: Redis closed it, or it is not ours
                    found.conn.disconnect()
            except (RedisConnectionError, RedisTimeoutError, OSError):
                found.conn.disconnect()
        return found
    if len(_lines.by_client) >= _KEPT:
        oldest = _lines.by_client.pop(next(iter(_lines.by_client)))  # the first made (a dict keeps that order)
        oldest.conn.disconnect()
    pool = redis.connection_pool
    line = _lines.by_client[id(redis)] = _Line(redis, pool.connection_class(**pool.connection_kwargs))
    return line


def _run(redis: Redis, command: bytes) -> object:
    """Send a command already in wire format on this thread's line; its parsed answer.

    With the connection's retry policy, as redis-py's execute_command: a connection that broke is
    dropped (and with retries configured, the command sent again on a new one).
    """
    line = _line(redis)
    conn = line.conn

    def send() -> object:
        conn.connect()  # at once if connected; a Sentinel's connection asks the Sentinels where the primary is
        conn.send_packed_command([command])  # a list: bytes alone would be iterated byte by byte
        return conn.read_response()

    def drop(_error: Exception) -> None:
        conn.disconnect()

    try:
        answer = conn.retry.call_with_retry(send, drop)
    except BaseException as exc:
        if not isinstance(exc, ResponseError):  # an answer read to its end leaves the line clean
            conn.disconnect()
        raise
    line.used = time.monotonic()
    return answer


def commit(redis: Redis, writes: Pipeline | Writes, guard: str | None = None, ttl: int = 86400, replicas: int = 0,
           wait_ms: int = 1000) -> bool:
    """Run every recorded write in one round trip; with `guard`, only if that key was not set yet.

    Returns False (and writes nothing) when the guard key already existed: a duplicate delivery.
    With `replicas`, waits (Redis WAIT, a second round trip) until that many replicas hold the writes,
    else raises NotReplicated: a 2xx then means the writes survive the primary's death. A duplicate
    waits too (the script renews its guard, so the WAIT covers the first delivery's writes): the
    retry of a delivery answered 503 is not answered "duplicate" before a replica holds it.
    """
    recorded = _writes(writes)
    head = b"*%d\r\n" % (6 + recorded.words)
    touch = b"1" if replicas and guard else b"0"
    tail = b"".join([packed_word((guard or "").encode()), packed_word(b"%d" % ttl), packed_word(touch),
                     *recorded.packed])
    try:  # one bytes object: redis-py sends each chunk of a list with its own system call
        done = bool(_run(redis, head + _EVALSHA + tail))
    except NoScriptError:  # a fresh or restarted Redis: the script travels once, then by its SHA
        done = bool(_run(redis, head + _EVAL + tail))
    if replicas:  # a duplicate too: its retry must not be answered 2xx before a replica holds the first one
        # WAIT counts the replicas holding this connection's writes: it goes on the line the script went on
        acked = int(_run(redis, b"*3\r\n" + packed_word(b"WAIT") + packed_word(b"%d" % replicas)
                         + packed_word(b"%d" % wait_ms)))  # type: ignore[call-overload]
        if acked < replicas:
            raise NotReplicated(f"{acked} of {replicas} Redis replicas acknowledged the writes within {wait_ms} ms")
    return done


__all__ = ["Packed", "Writes", "NotReplicated", "array", "batch", "commit", "pack", "packed_word", "raw"]
