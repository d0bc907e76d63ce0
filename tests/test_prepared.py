"""The webhooks' fast path writes exactly what RQ's enqueue writes, in one round trip, and workers treat it as
any RQ job: run, retried, reported (jobs/prepared.py, core/durable.py)."""

from __future__ import annotations

import json

import pytest
from redis.exceptions import ResponseError
from rq.job import Job

from core import audit, durable, logs, metrics
from handlers.alerts import group_dict, parse
from jobs.prepared import Prepared, prepared
from jobs.queues import enqueue

FUNC = "tests.test_prepared.flaky"
TIMES = {b"created_at", b"enqueued_at"}


def flaky(name: str, fail_times: int = 0, **rest: object) -> str:
    """A job that fails its first `fail_times` attempts (counted in Redis), then answers."""
    from core import runtime

    redis = runtime.get().redis
    if redis.incr(f"test:attempts:{name}") <= fail_times:
        raise RuntimeError(f"{name} failed on purpose")
    return f"done {name} {sorted(rest)}"


def _landed(redis, job_id: str) -> dict:
    """What a job left in Redis: its hash (times aside), its queue, the queue set, the metrics."""
    fields = {k: v for k, v in redis.hgetall(f"rq:job:{job_id}").items() if k not in TIMES}
    return {"job": fields, "queue": redis.lrange("rq:queue:commands", 0, -1), "queues": redis.smembers("rq:queues"),
            "metrics": redis.hgetall(metrics.KEY)}


KWARGS = [
    {"name": "plain"},
    {"name": "unicode ✓ 构建", "fail_times": 0, "nested": {"alerts": ({"labels": {"a": "b"}},) * 3}},
    {"name": "long", "blob": "x" * 100_000, "raw": bytes(range(256))},  # words over 64 KB, binary words
]


@pytest.mark.parametrize("kwargs", KWARGS, ids=["plain", "unicode-nested", "large-binary"])
@pytest.mark.parametrize("job_id", ["given-id", None], ids=["given-id", "generated-id"])
def test_the_prepared_job_is_word_for_word_what_enqueue_writes(rt, redis, kwargs, job_id):
    token = logs.request_id.set("req-123")
    try:
        writes = durable.Writes()
        fast = prepared(rt.redis, rt.settings, "commands", FUNC, "test", 900).add(writes, job_id, **kwargs)
        assert durable.commit(rt.redis, writes)
        got = _landed(redis, fast)
        redis.flushdb()
        pipeline = redis.pipeline()
        enqueue(rt.redis, rt.settings, "commands", FUNC, "test", pipeline=pipeline, job_id=fast, timeout=900, **kwargs)
        pipeline.execute()
        assert got == _landed(redis, fast)
    finally:
        logs.request_id.reset(token)
    job = Job.fetch(fast, connection=redis)
    assert (job.func_name, job.kwargs, job.meta) == (FUNC, kwargs, {"request_id": "req-123", "kind": "test"})
    assert len(fast) == 36 if job_id is None else fast == job_id  # RQ's own ids are str(uuid4())


def test_a_prepared_job_is_run_retried_and_reported_by_a_worker(rt, redis, work):
    writes = durable.Writes()
    ids = [prepared(rt.redis, rt.settings, "commands", FUNC, "test", 900).add(writes, name=name, fail_times=fails)
           for name, fails in (("ok", 0), ("once", 1), ("always", 99))]
    assert durable.commit(rt.redis, writes)
    work()
    ok, once, always = (Job.fetch(i, connection=redis) for i in ids)
    assert (ok.get_status(), ok.return_value()) == ("finished", "done ok []")
    assert (once.get_status(), once.return_value()) == ("finished", "done once []")  # retried, then done
    assert always.get_status() == "failed" and "failed on purpose" in always.latest_result().exc_string
    assert redis.get("test:attempts:always") == b"3"  # the first attempt and settings' two retries
    failed = {tuple(f for _, f in json.loads(k)[1]): float(v) for k, v in redis.hgetall(metrics.KEY).items()
              if json.loads(k)[0] == "dockyard_jobs_failed"}
    # reported by jobs.reporting.on_failure: "once" and two of "always" retried, the last of "always" final
    assert failed == {("false", "test"): 3.0, ("true", "test"): 1.0}  # labels sorted: final, kind


class _NewPerJobWord(Prepared):
    """An RQ that writes something new for each job (here: the request id in another field)."""

    def _record(self, job_id, request_id, kwargs):
        commands, serializer = super()._record(job_id, request_id, kwargs)
        return [words + [b"novel", request_id.encode()] if words[0] == b"HSET" and len(words) > 4 else words
                for words in commands], serializer


def test_a_job_rq_writes_differently_is_enqueued_the_slow_way_and_still_runs(rt, redis, work, caplog):
    slow = _NewPerJobWord(rt.redis, rt.settings, "commands", FUNC, "test", 900)
    assert slow.template is None and "enqueued the slow way" in caplog.text
    writes = durable.Writes()
    job_id = slow.add(writes, name="slow")
    assert durable.commit(rt.redis, writes)
    work()
    assert Job.fetch(job_id, connection=redis).return_value() == "done slow []"


def test_a_guarded_commit_writes_everything_once_and_nothing_the_second_time(rt, redis):
    def attempt() -> bool:
        writes = durable.Writes()
        writes.add("RPUSH", "test:list", "one")
        writes.add_packed(metrics.packed_inc("dockyard_jobs_enqueued", kind="test"))
        audit.record_in(writes, audit.Entry("ana", "gitlab", "Push Hook", "web", "accepted", "r1"))
        return durable.commit(rt.redis, writes, "test:guard", 60)

    assert attempt() is True and attempt() is False
    assert redis.lrange("test:list", 0, -1) == [b"one"]
    assert [e.who for e in audit.since(redis, 60)] == ["ana"]
    assert 0 < redis.ttl("test:guard") <= 60


def test_a_write_that_fails_leaves_the_delivery_unseen_so_its_retry_is_accepted(rt, redis):
    def attempt() -> bool:
        writes = durable.Writes()
        writes.add("RPUSH", "test:list", "one")
        return durable.commit(rt.redis, writes, "test:guard", 60)

    redis.set("test:list", "not a list")  # the write fails: WRONGTYPE
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        attempt()
    assert not redis.exists("test:guard")
    redis.delete("test:list")
    assert attempt() is True and redis.lrange("test:list", 0, -1) == [b"one"]


def test_the_commit_works_on_a_redis_that_never_saw_the_script(rt, redis):
    redis.script_flush()
    writes = durable.Writes()
    writes.add("SET", "test:key", 12.5)
    assert durable.commit(rt.redis, writes) and redis.get("test:key") == b"12.5"


def test_an_alert_group_is_the_dict_the_notify_job_always_got():
    payload = {"version": "4", "groupKey": "{}:{alertname=\"OOM\"}", "status": "firing", "receiver": "dockyard",
               "groupLabels": {"alertname": "OOM"}, "commonLabels": {"alertname": "OOM"}, "commonAnnotations": {},
               "externalURL": "http://am", "truncatedAlerts": 2,
               "alerts": [{"status": "firing", "labels": {"pod": f"p{i}"}, "annotations": {"summary": "s"},
                           "startsAt": "2026-05-01T08:00:00Z", "fingerprint": f"f{i}"} for i in range(3)]}
    assert group_dict(payload) == parse(payload).to_dict()
