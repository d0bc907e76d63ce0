"""The Procfile's processes for real: gunicorn serving the app, `./dockyard worker`, `./dockyard chat`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from deploy.local.services import RedisServer, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update({"DOCKYARD_REDIS_URL": redis_url, "DOCKYARD_RULES_DIR": str(ROOT / "rules"), **extra})
    return env


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def gunicorn(own_redis):
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "handlers.app:create_app()"],
        cwd=ROOT, env=_env(own_redis.url, GITLAB_WEBHOOK_TOKEN="hook-secret", ALERTMANAGER_WEBHOOK_TOKEN="am"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    # Waits on /readyz: a /healthz probe that timed out while gunicorn booted is still served (and counted)
    # later, which the /healthz count below would take for one of its own.
    wait_until(lambda: requests.get(f"{base}/readyz", timeout=1).ok, 20, "gunicorn")
    yield base
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def _healthz_count(base: str) -> float:
    series = 'dockyard_http_requests_total{endpoint="/healthz",method="GET",status="200"} '
    line = next((l for l in requests.get(f"{base}/metrics", timeout=2).text.splitlines() if l.startswith(series)),
                series + "0")  # no /healthz request yet
    return float(line[len(series):])


def test_gunicorn_serves_health_and_metrics_summed_across_its_workers(gunicorn):
    before = _healthz_count(gunicorn)
    for _ in range(10):  # gunicorn spreads these over its two worker processes
        assert requests.get(f"{gunicorn}/healthz", timeout=2).ok
    assert _healthz_count(gunicorn) - before == 10


def test_readyz_turns_503_when_redis_stops(gunicorn, own_redis):
    assert requests.get(f"{gunicorn}/readyz", timeout=2).status_code == 200
    own_redis.stop()
    response = requests.get(f"{gunicorn}/readyz", timeout=10)
    assert response.status_code == 503
    assert "redis unreachable" in response.json()["reasons"][0]


def test_dockyard_chat_through_a_real_worker_process(own_redis):
    env = _env(own_redis.url)
    worker = subprocess.Popen([str(ROOT / "dockyard"), "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        out = subprocess.run([str(ROOT / "dockyard"), "chat", "--as", "alice", "/status web"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("ℹ web status")
        bad = subprocess.run([str(ROOT / "dockyard"), "chat", "--as", "alice", "/deploy web canary 150%"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1
        assert bad.stdout.splitlines() == [
            "✖ canary weight must be 1–99%, got 150%",
            "  usage: /deploy <svc> [<tag>] [to <env>] [rolling | canary <N>% | canary <N>,<M>,..% every <interval> | "
            "canary plan | preview] [at <time> | in <duration>] [--break-glass <reason>]  ·  "
            "/deploy <svc> promote | abort | pause | resume [in <env>] [--break-glass <reason>]",
        ]
        audit = subprocess.run([str(ROOT / "dockyard"), "audit", "--since", "1h"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        lines = audit.stdout.splitlines()
        assert len(lines) == 2 and "accepted" in lines[0] and "invalid" in lines[1]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)


def test_bad_configuration_stops_the_cli_with_the_variable_named(own_redis):
    out = subprocess.run([str(ROOT / "dockyard"), "rules", "check"], cwd=ROOT,
                         env=_env(own_redis.url, DOCKYARD_RULES_DIR="/nonexistent"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "DOCKYARD_RULES_DIR='/nonexistent' is not a directory" in out.stderr


def test_the_notifier_runs_short_jobs_in_its_own_process_and_takes_no_long_ones(own_redis):
    """The Procfile's `notifier`: notify jobs (alerts, incidents, outbox flushes) without a fork per job."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    env = _env(own_redis.url)
    refused = subprocess.run([str(ROOT / "dockyard"), "worker", "--queues", "notify,rollouts", "--no-fork"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "safe only for the short jobs of notify, outbox; run rollouts in a forking worker" in refused.stderr
    notifier = subprocess.Popen([str(ROOT / "dockyard"), "worker", "--queues", "outbox,notify", "--no-fork"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        redis = Redis.from_url(own_redis.url)
        jobs = [Queue("notify", connection=redis).enqueue("os.getpid") for _ in range(2)]
        wait_until(lambda: all(Job.fetch(j.id, connection=redis).is_finished for j in jobs), 30, "the two jobs")
        # each ran in the notifier itself (`./dockyard` execs python): no work horse was forked for it
        assert {Job.fetch(j.id, connection=redis).return_value() for j in jobs} == {notifier.pid}
    finally:
        notifier.send_signal(signal.SIGTERM)
        notifier.wait(20)


ALERT = {"version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing", "receiver": "dockyard",
         "groupLabels": {"alertname": "X"}, "commonLabels": {"alertname": "X"}, "commonAnnotations": {},
         "externalURL": "http://am:9093", "alerts": [{"status": "firing", "labels": {"alertname": "X"},
                                                      "annotations": {}, "startsAt": "2026-12-04T10:00:00Z"}]}


def test_with_redis_gone_webhooks_get_503_with_retry_after_not_500(gunicorn, own_redis):
    headers = {"X-Gitlab-Token": "hook-secret", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "u-1"}
    push = {"object_kind": "push", "ref": "refs/heads/main", "after": "a" * 40, "checkout_sha": "a" * 40,
            "user_username": "alice", "project": {"path_with_namespace": "shop/web"}}
    own_redis.stop()
    for path, kwargs in (("/webhooks/gitlab", {"json": push, "headers": headers}),
                         ("/webhooks/alertmanager", {"json": ALERT, "headers": {"Authorization": "Bearer am"}})):
        response = requests.post(f"{gunicorn}{path}", timeout=10, **kwargs)
        assert response.status_code == 503, (path, response.status_code, response.text)
        assert response.headers["Retry-After"] == "5"
        assert "Redis is unreachable" in response.json()["error"] and "nothing was accepted" in response.json()["error"]
