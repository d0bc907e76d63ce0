"""RQ worker classes that carry the request id into logs and time every job."""

from __future__ import annotations

import time

from rq import SimpleWorker, Worker

from core import logs, metrics


class _Instrumented:
    """Mixin: request id from job.meta into the log context; duration and outcome into metrics."""

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


class DockyardSimpleWorker(_Instrumented, SimpleWorker):
    """Runs jobs in the worker's own process (tests, benchmarks)."""
