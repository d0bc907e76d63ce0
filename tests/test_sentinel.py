"""DOCKYARD_REDIS_URL on a Sentinel set: Debian's redis-server as primary and replica, three real Sentinels."""

from __future__ import annotations

import pytest
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job

from core.config import ConfigError, from_env
from core.redis_url import connect, parse_sentinel
from deploy.local.services import SentinelSet, wait_until
from jobs.worker import DockyardSimpleWorker


def test_a_sentinel_url_names_the_sentinels_the_primary_and_the_db():
    spec = parse_sentinel("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380,sentinel-c/dockyard/2")
    assert spec.hosts == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("sentinel-c", 26379))
    assert (spec.master, spec.db, spec.password) == ("dockyard", 2, "s3cret")


@pytest.mark.parametrize("url, says", [
    ("redis+sentinel://10.0.0.1:26379", "needs the Sentinels and the primary's name"),
    ("redis+sentinel://10.0.0.1:x/dockyard", "sentinel '10.0.0.1:x' is not host:port"),
    ("redis+sentinel://10.0.0.1:26379/dockyard/zero", "the path is /<master name>[/<db number>]"),
])
def test_a_wrong_sentinel_url_stops_start_up_saying_what_to_write(url, says, tmp_path):
    with pytest.raises(ConfigError) as err:
        from_env({"DOCKYARD_REDIS_URL": url})
    assert says in str(err.value) and "DOCKYARD_REDIS_URL=" in str(err.value)


@pytest.fixture
def sentinels(tmp_path):
    found = SentinelSet(tmp_path / "sentinel").start()
    yield found
    found.stop()


def test_queues_follow_the_primary_when_sentinel_fails_over(sentinels):
    redis = connect(sentinels.url)
    first = sentinels.primary_port()
    queue = Queue("notify", connection=redis)
    before = queue.enqueue("builtins.len", "before")
    redis.wait(1, 2000)  # the replica has it: what a failover may keep
    sentinels.kill("primary")
    wait_until(lambda: sentinels.primary_port() != first, 30, "the replica promoted")

    def enqueue_after() -> bool:  # the client asks the Sentinels again once the old primary's connection fails
        try:
            queue.enqueue("builtins.len", "after!")
        except RedisError:
            return False
        return True
    wait_until(enqueue_after, 30, "an enqueue on the new primary")
    DockyardSimpleWorker([queue], connection=redis).work(burst=True)
    assert Job.fetch(before.id, connection=redis).return_value() == 6  # written before the failover, kept
    assert len(queue.finished_job_registry.get_job_ids()) == 2


def test_with_wait_replicas_a_webhook_is_answered_2xx_only_once_a_replica_holds_it(sentinels):
    from pydantic import SecretStr

    from core import runtime
    from core.config import ROOT, Settings
    from core.runtime import Runtime
    from handlers.app import create_app
    from rules import load_rules

    previous = runtime._current
    settings = Settings(redis_url=sentinels.url, rules_dir=ROOT / "rules", redis_wait_replicas=1,
                        gitlab_webhook_token=SecretStr("hook-secret"))
    client = create_app(rt=Runtime(settings=settings, rules=load_rules(settings.rules_dir))).test_client()

    def push(sha: str, delivery: str):
        return client.post("/webhooks/gitlab", json={
            "object_kind": "push", "ref": "refs/heads/main", "after": sha, "checkout_sha": sha,
            "user_username": "alice", "project": {"path_with_namespace": "shop/web"}},
            headers={"X-Gitlab-Token": "hook-secret", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": delivery})
    try:
        assert push("a" * 40, "d-1").status_code == 202  # the replica acknowledged it
        again = push("a" * 40, "d-1")  # a retry while the replica holds it: the duplicate, answered at once
        assert again.status_code == 200 and "already accepted" in again.json["duplicate"]
        sentinels.kill("replica")
        refused = push("b" * 40, "d-2")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert "0 of 1 Redis replicas acknowledged" in refused.json["error"]
        retried = push("b" * 40, "d-2")  # GitLab retries: the delivery is known, but still held by no replica
        assert retried.status_code == 503 and "0 of 1 Redis replicas acknowledged" in retried.json["error"]
    finally:
        runtime._current = previous
