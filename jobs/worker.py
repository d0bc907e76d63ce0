"""RQ worker classes that carry the request id into logs, time every job, and retry a dead worker's job soon."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker, Worker

from core import logs, metrics

log = logging.getLogger("dockyard.worker")

# A worker killed mid-job (SIGKILL, OOM, a node lost) leaves its job "started" until the job's heartbeat
# lapses, and only a maintenance pass then retries it. RQ's defaults (heartbeat every 30 s + 60 s of
# grace, maintenance every 10 minutes, a 405 s blocking dequeue between passes) left a killed rollout
# untouched for up to ten minutes. Dockyard's workers heartbeat every 5 s, call a job abandoned 15 s
# after its last heartbeat and look every 15 s, so its retry starts within about half a minute.
HEARTBEAT_SECONDS = 5
ABANDONED_AFTER = 15
MAINTENANCE_SECONDS = 15


class _Instrumented:
    """Mixin: request id from job.meta into the log context; duration and outcome into metrics."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        # the blocking dequeue lasts worker_ttl - 15 s: an idle worker wakes for maintenance as often
        kwargs.setdefault("worker_ttl", MAINTENANCE_SECONDS + 15)
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def perform_job(self, job, queue, execution) -> bool:  # type: ignore[no-untyped-def]
        token = logs.request_id.set(job.meta.get("request_id", ""))
        job.meta["tries"] = job.meta.get("tries", 0) + 1
        job.save_meta()
        kind = job.meta.get("kind", job.func_name)
        started = time.monotonic()
        try:
            ok = super().perform_job(job, queue, execution)  # type: ignore[misc]
        finally:
            logs.request_id.reset(token)
        metrics.observe(self.connection, "dockyard_job_duration_seconds", time.monotonic() - started, kind=kind)
        if ok:
            metrics.inc(self.connection, "dockyard_jobs_finished", kind=kind)
        return ok


class DockyardWorker(_Instrumented, Worker):
    """Forks a work horse per job: a job that crashes or leaks cannot take the worker down."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("job_monitoring_interval", HEARTBEAT_SECONDS)
        super().__init__(*args, **kwargs)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:  # type: ignore[no-untyped-def]
        """The parent heartbeats while its horse works, so a lapse means this worker died."""
        remaining = job.timeout - working_time if job.timeout and job.timeout > 0 else self.job_monitoring_interval
        return int(min(remaining, self.job_monitoring_interval)) + ABANDONED_AFTER


class DockyardSimpleWorker(_Instrumented, SimpleWorker):
    """Runs jobs in the worker's own process (the notifier, tests, benchmarks).

    It cannot heartbeat while its job runs, so it keeps RQ's longer grace: a slow delivery is not
    taken for a dead worker's and run twice.
    """


def _answers(redis: Redis) -> bool:
    try:
        return bool(redis.ping())
    except RedisError:
        return False


def work_through_outages(make: Callable[[], Worker], redis: Redis, burst: bool = False) -> int:
    """Run workers until a signal asks them to stop; the exit code.

    RQ's worker quits when Redis goes away while a job runs (a restart, a failover). Exiting then
    would take the platform down with it under `make run` (honcho stops every process when one
    exits), so a fresh worker starts once Redis answers again; the interrupted job is retried when
    its heartbeat lapses. A worker that keeps quitting with Redis up exits 1, for its supervisor."""
    quick_quits = 0
    while True:
        worker, started = make(), time.monotonic()
        try:
            worker.work(with_scheduler=True, burst=burst)
        except RedisError:  # its teardown, with Redis gone: the scheduler process must not outlive it
            if worker.scheduler is not None:
                worker.stop_scheduler()
        if burst or worker._shutdown_requested_date is not None:
            return 0
        # RQ's handlers would ask the worker that quit to stop: a signal now just ends the process.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        wait = 1.0
        if _answers(redis):
            quick_quits = quick_quits + 1 if time.monotonic() - started < 10 else 0
            if quick_quits >= 5:
                log.error("the worker quit %d times in a row with Redis up; exiting (see the errors above)",
                          quick_quits)
                return 1
        else:
            log.warning("Redis is unreachable: a new worker starts when it answers again")
        while not _answers(redis):
            time.sleep(wait)
            wait = min(wait * 2, 30.0)
        time.sleep(min(quick_quits, 5))
