"""The webhooks' fast lane (handlers/lane.py) answers an accepted delivery exactly as the Flask view did: same
answer, request id, counters, audit and job; whatever it does not accept is answered by the view; a Redis
failure in its write is a 503, and the write is not tried twice."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from rq import Queue

from core import audit, metrics, runtime
from core.config import Settings
from core.runtime import Runtime
from handlers.app import create_app
from rules import load_rules
from tests.test_gitlab import HOOK_TOKEN, push
from tests.test_security_gitlab import ROOT

AM_TOKEN = "lane-am-token"
GROUP = {"version": "4", "groupKey": "{}:{alertname=\"OOM\"}", "status": "firing", "receiver": "dockyard",
         "groupLabels": {"alertname": "OOM"}, "commonLabels": {"alertname": "OOM", "service": "web"},
         "commonAnnotations": {}, "externalURL": "http://am", "truncatedAlerts": 0,
         "alerts": [{"status": "firing", "labels": {"alertname": "OOM", "pod": "web-1"}, "annotations": {},
                     "startsAt": "2026-05-01T08:00:00Z", "fingerprint": "f1"}]}


@pytest.fixture
def client(redis, redis_server):
    previous = runtime._current
    settings = Settings(redis_url=redis_server.url, rules_dir=ROOT / "rules",
                        gitlab_webhook_token=SecretStr(HOOK_TOKEN), alertmanager_webhook_token=SecretStr(AM_TOKEN), job_retries=1, job_backoff=(0,))
    rt = runtime.install(Runtime(settings=settings, rules=load_rules(ROOT / "rules")))
    yield create_app(rt=rt).test_client()
    runtime._current = previous


def gitlab(client, uuid: str, **headers: str):
    return client.post("/webhooks/gitlab", data=json.dumps(push()), content_type="application/json",
                       headers={"X-Gitlab-Token": HOOK_TOKEN, "X-Gitlab-Event": "Push Hook",
                                "X-Gitlab-Event-UUID": uuid, **headers})


def alertmanager(client, **headers: str):
    return client.post("/webhooks/alertmanager", data=json.dumps(GROUP), content_type="application/json",
                       headers={"Authorization": f"Bearer {AM_TOKEN}", **headers})


def requests_counted(redis) -> dict[tuple[str, str], float]:
    out = {}
    for field, value in redis.hgetall(metrics.KEY).items():
        name, labels = json.loads(field)
        if name == "dockyard_http_requests":
            labels = dict(labels)
            out[labels["endpoint"], labels["status"]] = float(value)
    return out


def test_an_accepted_push_is_answered_counted_audited_and_queued_once(client, redis):
    response = gitlab(client, "d-1", **{"X-Request-Id": "trace-42"})
    assert response.status_code == 202 and response.headers["X-Request-Id"] == "trace-42"
    assert response.headers["Content-Type"] == "application/json"
    [queued] = response.get_json()["queued"]
    assert queued["service"] == "web" and Queue("builds", connection=redis).job_ids == [queued["job"]]
    assert Queue("builds", connection=redis).jobs[0].meta["request_id"] == "trace-42"
    assert [(e.channel, e.request_id) for e in audit.since(redis, 60)] == [("gitlab", "trace-42")]
    assert requests_counted(redis) == {("/webhooks/gitlab", "202"): 1.0}

    again = gitlab(client, "d-1")  # GitLab's retry of the same delivery: the view answers it
    assert again.status_code == 200 and "already accepted" in again.get_json()["duplicate"]
    assert len(again.headers["X-Request-Id"]) == 16  # none given: one made up
    assert requests_counted(redis) == {("/webhooks/gitlab", "202"): 1.0, ("/webhooks/gitlab", "200"): 1.0}
    assert len(Queue("builds", connection=redis)) == 1


def test_an_accepted_alert_group_is_answered_counted_and_queued(client, redis):
    response = alertmanager(client)
    assert response.status_code == 202 and response.get_json()["alerts"] == 1
    [job] = Queue("notify", connection=redis).jobs
    assert job.id == response.get_json()["queued"] and job.kwargs["group"]["group_key"] == GROUP["groupKey"]
    assert requests_counted(redis) == {("/webhooks/alertmanager", "202"): 1.0}


@pytest.mark.parametrize("send, status", [
    (lambda c: gitlab(c, "d-2", **{"X-Gitlab-Token": "wrong"}), 401),
    (lambda c: c.post("/webhooks/gitlab", data=b"{", content_type="application/json",
                      headers={"X-Gitlab-Token": HOOK_TOKEN, "X-Gitlab-Event": "Push Hook"}), 400),
    (lambda c: c.post("/webhooks/gitlab", data=b"[" * 100_000, content_type="application/json",
                      headers={"X-Gitlab-Token": HOOK_TOKEN, "X-Gitlab-Event": "Push Hook"}), 400),
    (lambda c: alertmanager(c, Authorization="Basic !!"), 401),
    (lambda c: c.post("/webhooks/alertmanager", data=json.dumps({**GROUP, "alerts": []}),
                      content_type="application/json", headers={"Authorization": f"Bearer {AM_TOKEN}"}), 400),
], ids=["wrong-token", "malformed", "nested-too-deep", "bad-basic-auth", "no-alerts"])
def test_what_the_lane_does_not_accept_the_view_answers_with_its_reason(client, redis, send, status):
    response = send(client)
    assert response.status_code == status and response.get_json()["error"]
    assert len(response.headers["X-Request-Id"]) == 16
    assert not redis.exists("rq:queue:builds", "rq:queue:notify", audit.STREAM)
    assert list(requests_counted(redis).values()) == [1.0]


@pytest.mark.parametrize("send", [lambda c: gitlab(c, "d-3"), alertmanager], ids=["gitlab", "alertmanager"])
def test_a_redis_failure_in_the_lanes_write_is_a_503_and_the_write_is_not_tried_again(client, redis, send):
    redis.set("rq:queues", "not a set")  # the job's SADD fails inside the script: a RedisError on the write
    redis.config_resetstat()
    response = send(client)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "nothing was accepted" in response.get_json()["error"]
    assert redis.info("commandstats")["cmdstat_evalsha"]["calls"] == 1
    assert not redis.exists("dockyard:gitlab-delivery:d-3", "rq:queue:builds", "rq:queue:notify")
    redis.delete("rq:queues")
    assert send(client).status_code == 202  # the sender's retry is accepted
