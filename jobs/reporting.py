"""What happens when a job raises: retry with backoff, and after the last try, say so in chat."""

from __future__ import annotations

import logging

from rq.job import Job

from bots import replies
from core import metrics
from core.errors import PermanentError, TemporaryError
from jobs.notify import deliver, locale_of
from state import locks

log = logging.getLogger("dockyard.jobs")


def on_failure(job: Job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: runs on every failed attempt, before RQ decides to retry."""
    kind = job.meta.get("kind", job.func_name)
    if isinstance(exc_value, PermanentError):
        job.retries_left = 0  # nothing a retry could fix
    elif isinstance(exc_value, TemporaryError) and exc_value.delay and job.retry_intervals:
        # The cause named a wait (a 429's Retry-After): no retry comes sooner than that.
        job.retry_intervals = [max(int(exc_value.delay), interval) for interval in job.retry_intervals]
    final = not job.retries_left
    metrics.inc(connection, "dockyard_jobs_failed", kind=kind, final=str(final).lower())
    if not final:
        log.warning("job %s (%s) failed, %s retries left: %s", job.id, kind, job.retries_left, exc_value)
        return
    log.error("job %s (%s) failed for good: %s", job.id, kind, exc_value)
    for key in locks.release_rollout(connection, job.id):  # a rollout that gave up holds nothing
        log.warning("released %s held by failed job %s", key, job.id)
    reply_to = (job.kwargs or {}).get("reply_to")
    if not reply_to:
        return
    attempts = None if isinstance(exc_value, PermanentError) else job.meta.get("tries", 1)
    deliver(reply_to, replies.job_failed(job.meta.get("command_text") or kind, attempts,
                                         str(exc_value) or exc_type.__name__, job.id, locale_of(reply_to)),
            dedupe_key=f"failed:{job.id}")
