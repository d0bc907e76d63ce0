"""What the fault suite (tests/test_faults.py) found, fixed and pinned at unit level."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from kubernetes.client.exceptions import ApiException
from rq import Queue
from rq.job import Job, JobStatus

from core.errors import PermanentError, TemporaryError
from deploy import api_errors
from deploy.local.services import wait_until
from jobs.queues import enqueue
from jobs.worker import ABANDONED_AFTER, HEARTBEAT_SECONDS

ROOT = Path(__file__).resolve().parent.parent


def _forbidden(text: str) -> ApiException:
    exc = ApiException(status=403, reason="Forbidden")
    exc.body = '{"kind":"Status","message":"' + text.replace('"', '\\"') + '"}'
    return exc


def test_a_403_naming_a_role_the_apiserver_cannot_see_yet_is_retried_any_other_403_is_not():
    warming = _forbidden('deployments.apps "f1" is forbidden: User "system:serviceaccount:dockyard-system:dockyard" '
                         'cannot get resource "deployments" in API group "apps" in the namespace "shop-test": '
                         'RBAC: role.rbac.authorization.k8s.io "dockyard" not found')
    decided = api_errors.decide(warming, "shop-test")
    assert isinstance(decided, TemporaryError) and "check its RBAC for namespace shop-test" in str(decided)
    plain = _forbidden('secrets is forbidden: User "dockyard" cannot list resource "secrets" in the namespace "x"')
    assert isinstance(api_errors.decide(plain, "x"), PermanentError)


def test_a_job_whose_worker_was_sigkilled_is_retried_once_its_heartbeat_lapses(redis, redis_server, settings):
    """A real forking worker is killed with its work horse; the job is not left 'started' for RQ's ten minutes."""
    env = {**os.environ, "DOCKYARD_REDIS_URL": redis_server.url, "DOCKYARD_RULES_DIR": str(ROOT / "rules")}
    env.pop("KUBECONFIG", None)
    worker = subprocess.Popen([str(ROOT / "dockyard"), "worker", "--queues", "commands"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    enqueue(redis, settings, "commands", "tests.test_crash_recovery.nap", "nap", job_id="sleepy", seconds=120)
    started = Queue("commands", connection=redis).started_job_registry
    try:
        wait_until(lambda: "sleepy" in started.get_job_ids(cleanup=False) and Job.fetch(
            "sleepy", connection=redis).get_status() == JobStatus.STARTED, 30, "the job started")
        horse = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == worker.pid]
        for pid in [worker.pid, *horse]:  # the pod dies: the worker and its horse at once
            os.kill(pid, signal.SIGKILL)
        worker.wait(10)
        [(_, expires)] = redis.zrange(started.key, 0, -1, withscores=True)
        # the entry lapses within one heartbeat and the grace, not RQ's 30 s + 60 s
        assert expires <= time.time() + HEARTBEAT_SECONDS + ABANDONED_AFTER
        started.cleanup(timestamp=expires + 1)  # what the next worker's maintenance pass does
        job = Job.fetch("sleepy", connection=redis)
        assert job.get_status() == JobStatus.QUEUED and job.retries_left == 1  # retried, one try used
    finally:
        if worker.poll() is None:
            worker.kill()


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def nap(seconds: float) -> None:
    """A job that runs long enough to be killed mid-way."""
    time.sleep(seconds)


def test_a_worker_outlives_a_redis_restart_mid_job_and_works_on(tmp_path):
    """RQ's worker quits when Redis vanishes while a job runs; under `make run` that stopped everything."""
    from redis import Redis

    from deploy.local.services import RedisServer

    own = RedisServer(tmp_path / "redis").start()
    env = {**os.environ, "DOCKYARD_REDIS_URL": own.url, "DOCKYARD_RULES_DIR": str(ROOT / "rules")}
    env.pop("KUBECONFIG", None)
    worker = subprocess.Popen([str(ROOT / "dockyard"), "worker", "--queues", "commands"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        redis = Redis.from_url(own.url)
        queue = Queue("commands", connection=redis)
        queue.enqueue("tests.test_crash_recovery.nap", 30, job_id="interrupted")
        wait_until(lambda: Job.fetch("interrupted", connection=redis).get_status() == JobStatus.STARTED, 30,
                   "the job started")
        own.proc.kill()  # Redis dies mid-job (kill -9) and comes back on the same port, empty
        own.proc.wait(10)
        time.sleep(2 * HEARTBEAT_SECONDS)  # the worker's heartbeat while it watches its job meets no Redis
        own.start()
        after = queue.enqueue("os.getpid", job_id="after")
        wait_until(lambda: after.get_status(refresh=True) == JobStatus.FINISHED, 60, "a job after the outage")
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        own.stop()


def refused_by_rbac() -> None:
    """A job whose every call the apiserver refuses with a plain 403."""
    raise api_errors.decide(_forbidden('deployments.apps "f1" is forbidden: User "dockyard" cannot get resource '
                                       '"deployments" in the namespace "shop-test"'), "shop-test")


def test_a_plain_403_in_a_job_is_tried_once_more_then_fails_for_good(redis, settings):
    """A just-restarted apiserver may answer a plain 403; a real refusal is final on the second try."""
    from jobs.worker import DockyardSimpleWorker

    job = enqueue(redis, settings.model_copy(update={"job_retries": 5}), "commands",
                  "tests.test_crash_recovery.refused_by_rbac", "status")
    DockyardSimpleWorker([Queue("commands", connection=redis)], connection=redis).work(burst=True)
    job = Job.fetch(job.id, connection=redis)
    assert job.get_status() == JobStatus.FAILED and job.meta["tries"] == 2  # of 6 allowed: not all spent
    assert "check its RBAC for namespace shop-test" in job.latest_result().exc_string
