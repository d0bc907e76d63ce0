"""RQ worker classes that carry the request id into logs, time every job, and retry a dead worker's job soon."""

from __future__ import annotations

import time

from rq import SimpleWorker, Worker

from core import logs, metrics

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
