"""core.durable's one round trip on each thread's own connection: it survives a Redis restart and a fork,
and what it writes is what the slower, obvious commands would have written (issue #18)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq.utils import utcformat

from core import durable, metrics
from deploy.local.services import RedisServer
from jobs.prepared import merged, rq_time


def _commit(redis: Redis, value: str, guard: str) -> bool:
    writes = durable.Writes()
    writes.add("RPUSH", "test:list", value)
    return durable.commit(redis, writes, guard, 60)


def test_a_commit_after_redis_restarted_is_written_on_a_new_connection(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    try:
        redis = Redis.from_url(server.url)
        assert _commit(redis, "before", "test:g1")
        server.stop()  # the thread's connection is now dead
        server.start()
        time.sleep(durable.IDLE_CHECK)  # a line quiet this long is checked before it is used: it reconnects
        assert _commit(redis, "after", "test:g2")
        assert Redis.from_url(server.url).lrange("test:list", 0, -1) == [b"after"]  # no persistence: a new Redis
    finally:
        server.stop()


def test_a_commit_while_redis_is_down_raises_a_connection_error_then_works_again(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    try:
        redis = Redis.from_url(server.url, socket_connect_timeout=1)
        assert _commit(redis, "one", "test:g1")
        server.stop()
        with pytest.raises(RedisError):  # the web answers 503 for it (handlers.app)
            _commit(redis, "lost", "test:g2")
        server.start()
        assert _commit(redis, "two", "test:g2")  # the same delivery, retried by its sender, is accepted now
    finally:
        server.stop()


def test_a_forked_child_commits_on_its_own_connection_and_the_parent_keeps_its_own(rt, redis):
    assert _commit(rt.redis, "parent", "test:g-parent")
    child = os.fork()
    if child == 0:  # the child: a commit on the parent's socket would interleave both processes' answers
        try:
            os._exit(0 if _commit(rt.redis, "child", "test:g-child") else 1)
        except BaseException:  # noqa: BLE001 - report any failure through the exit status
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _commit(rt.redis, "parent again", "test:g-parent-2")
    assert redis.lrange("test:list", 0, -1) == [b"parent", b"child", b"parent again"]


def test_rqs_hsets_merged_leave_the_same_hash(redis):
    commands = [[b"SADD", b"test:set", b"a"], [b"HSET", b"test:h1", b"status", b"queued"],
                [b"HSET", b"test:h1", b"data", b"x" * 100, b"status", b"queued", b"meta", b"m"],
                [b"HSET", b"test:h1", b"status", b"deferred"], [b"RPUSH", b"test:l", b"1"]]
    for words in commands:
        redis.execute_command(*words)
    expected = redis.hgetall("test:h1")
    redis.delete("test:h1")
    together = merged(commands)
    assert [w[0] for w in together] == [b"SADD", b"HSET", b"RPUSH"]
    for words in together:
        if words[0] == b"HSET":
            redis.execute_command(*words)
    assert redis.hgetall("test:h1") == expected == {b"status": b"deferred", b"data": b"x" * 100, b"meta": b"m"}


@pytest.mark.parametrize("moment", [datetime(2026, 12, 4, 17, 3, 9, 0, tzinfo=timezone.utc),
                                    datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)])
def test_a_job_time_is_written_as_rq_writes_it(moment):
    assert rq_time(moment) == utcformat(moment).encode()


def test_counters_count_whole_events(rt, redis):
    metrics.inc(rt.redis, "dockyard_jobs_enqueued", kind="test")
    metrics.inc(rt.redis, "dockyard_jobs_enqueued", 2, kind="test")
    with pytest.raises(TypeError, match="whole events"):
        metrics.inc(rt.redis, "dockyard_jobs_enqueued", 0.5, kind="test")
    exported = {s.labels.get("kind"): s.value for family in metrics.RedisCollector(rt.redis).collect()
                for s in family.samples if s.name == "dockyard_jobs_enqueued_total"}
    assert exported["test"] == 3
