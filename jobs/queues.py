"""Where jobs go and how they are enqueued: queues, retry policy, request id, metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Callback, Queue, Retry

from core import logs, metrics
from core.config import Settings

# In the order a worker listening on several takes them: `outbox` (the quota-paced flushes) first, so a
# backlog of notify jobs never holds back the sends that drain it.
QUEUES = ("outbox", "commands", "rollouts", "builds", "notify")
# Short jobs that only talk to Redis and chat APIs: a worker may run them without forking per job.
NO_FORK_QUEUES = frozenset({"outbox", "notify"})
DEFAULT_TIMEOUT = 600


def enqueue(redis: Redis, settings: Settings, queue: str, func: str, kind: str, *,
            job_id: str | None = None, timeout: int = DEFAULT_TIMEOUT, pipeline: Pipeline | None = None,
            delay: float | None = None, **kwargs: Any):
    """Enqueue `func` (dotted path) with the platform's retry policy and failure report.

    With `pipeline` (in MULTI), the job is written only when the caller executes it, so the
    caller can make the enqueue and its own writes (a delivery's dedupe key) one transaction.
    With `delay` (seconds), the job waits in the scheduled registry until it is due.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    retry = None
    if settings.job_retries:
        retry = Retry(max=settings.job_retries, interval=list(settings.job_backoff))
    options = dict(kwargs=kwargs, job_id=job_id, retry=retry, job_timeout=timeout,
                   meta={"request_id": logs.request_id.get(), "kind": kind},
                   on_failure=Callback("jobs.reporting.on_failure"),
                   result_ttl=86400, failure_ttl=7 * 86400, pipeline=pipeline)
    target = Queue(queue, connection=redis)
    if delay:
        job = target.enqueue_in(timedelta(seconds=delay), func, **options)
    else:
        job = target.enqueue(func, **options)
    metrics.inc(pipeline if pipeline is not None else redis, "dockyard_jobs_enqueued", kind=kind)
    return job
