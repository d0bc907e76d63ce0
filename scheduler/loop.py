"""The scheduler process: several replicas, one leader (a Redis lease with a fencing token), APScheduler on it.

The leader runs APScheduler with its Redis job store, so scheduled work
survives restarts. Every second it fires the timed changes that are due
(state/schedules.py): each becomes an ordinary RQ job, so retries, audit and
failure reports stay one mechanism. Firing is fenced: the enqueue commits only
under the current lease token and only once per schedule, so a leader that
stalled and lost its lease, or two leaders overlapping for a moment, never
fire one change twice. A standby takes over within a lease's length.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from redis import WatchError

from core.runtime import Runtime
from jobs.queues import enqueue
from core import durations
from state import locks, schedules
from state.lease import Lease

log = logging.getLogger("dockyard.scheduler")
LEASE_TTL_MS = 6000
DEFAULT_MAX_AGE = "24h"  # a canary or preview live longer than this is forgotten, unless the catalog says
_current: "Scheduler | None" = None  # the process's scheduler, for the APScheduler jobs below


def fire_due() -> int:
    """APScheduler job (every second, on the leader): enqueue every due change, exactly once."""
    return _current.fire_due() if _current is not None else 0


def daily_digest() -> bool:
    """APScheduler cron job (DOCKYARD_DIGEST_AT, on the leader): each team's digest, once a day."""
    return _current.daily_digest() if _current is not None else False


def remind_stale() -> int:
    """APScheduler job (every minute, on the leader): a canary or preview left live too long is told once a period."""
    return _current.remind_stale() if _current is not None else 0


class Scheduler:
    def __init__(self, rt: Runtime, identity: str | None = None):
        self.rt = rt
        self.identity = identity or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = Lease("scheduler", self.identity, LEASE_TTL_MS)
        self.token: int | None = None
        self.aps: BackgroundScheduler | None = None
        self.stop = threading.Event()

    def _store(self) -> RedisJobStore:
        kwargs = dict(self.rt.redis.connection_pool.connection_kwargs)
        kwargs = {k: kwargs[k] for k in ("host", "port", "db", "password", "username") if kwargs.get(k) is not None}
        return RedisJobStore(jobs_key="dockyard:apscheduler:jobs", run_times_key="dockyard:apscheduler:run_times",
                             **kwargs)

    def _lead(self) -> None:
        self.aps = BackgroundScheduler(jobstores={"default": self._store()}, timezone=self.rt.settings.timezone)
        self.aps.start()
        # In the job store, so it is there after any restart; replace_existing keeps one copy.
        self.aps.add_job("scheduler.loop:fire_due", "interval", seconds=1, id="fire-due", replace_existing=True,
                         coalesce=True, max_instances=1, misfire_grace_time=30)
        self.aps.add_job("scheduler.loop:remind_stale", "interval", seconds=60, id="remind-stale",
                         replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=120)
        hour, minute = self.rt.settings.digest_at.split(":")
        self.aps.add_job("scheduler.loop:daily_digest", "cron", hour=int(hour), minute=int(minute), id="daily-digest",
                         replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=3600)
        log.info("scheduler %s leads (token %s)", self.identity, self.token)

    def _follow(self) -> None:
        if self.aps is not None:
            self.aps.shutdown(wait=False)
            self.aps = None
            log.warning("scheduler %s lost the lease", self.identity)

    def fire_due(self) -> int:
        token, fired = self.token, 0
        if token is None:
            return 0
        for entry in schedules.due(self.rt.redis, time.time()):
            if self._fire(entry, token):
                fired += 1
                log.info("fired %s: %s", entry.id, entry.text)
        return fired

    def _fire(self, entry: schedules.Schedule, token: int) -> bool:
        """Enqueue the change's job and take it off the list, in one fenced transaction."""
        return self._fenced(token, f"schedule:{entry.id}", "rollouts", "jobs.schedules.run", "scheduled",
                            f"scheduled-{entry.id}", lambda pipe: pipe.zrem(schedules.DUE, entry.id),
                            schedule_id=entry.id)

    def _fenced(self, token: int, once_key: str, queue: str, func: str, kind: str, job_id: str,
                also=None, **kwargs) -> bool:
        """Enqueue once, and only while `token` is the lease's current one (WATCH/MULTI)."""
        redis = self.rt.redis
        once = f"dockyard:once:{once_key}"
        with redis.pipeline() as pipe:
            try:
                pipe.watch(self.lease.token_key, once)
                if int(pipe.get(self.lease.token_key) or 0) != token or pipe.exists(once):
                    return False
                pipe.multi()
                pipe.set(once, token, ex=7 * 86400)
                enqueue(redis, self.rt.settings, queue, func, kind, job_id=job_id, timeout=3600, pipeline=pipe,
                        **kwargs)
                if also is not None:
                    also(pipe)
                pipe.execute()
                return True
            except WatchError:  # a new leader (or another fire) changed something: it decides
                return False

    def daily_digest(self) -> bool:
        if self.token is None:
            return False
        date = datetime.now(ZoneInfo(self.rt.settings.timezone)).strftime("%Y-%m-%d")
        return self._fenced(self.token, f"digest:{date}", "notify", "jobs.digest.daily", "digest", f"digest-{date}",
                            date=date)

    def remind_stale(self, now: float | None = None) -> int:
        """Tell the team about each canary or preview live longer than its service's limit, once a period."""
        token, told = self.token, 0
        if token is None:
            return 0
        now = now or time.time()
        for key in self.rt.redis.scan_iter("dockyard:lock:*"):
            _, _, service, env = key.decode().split(":", 3)
            holder = locks.holder(self.rt.redis, service, env)
            svc = self.rt.rules.service(service)
            if holder is None or holder.kind not in ("canary", "preview") or svc is None:
                continue
            limit = durations.to_seconds(svc.canary_plan.max_age if svc.canary_plan else DEFAULT_MAX_AGE) or 86400
            age = now - holder.since
            if age < limit:
                continue
            period = int(age // limit)  # one reminder per limit's worth of age
            if self._fenced(token, f"stale:{holder.rollout}:{period}", "notify", "jobs.plans.remind_stale",
                            "reminder", f"stale-{service}-{env}-{period}-{holder.rollout[:8]}",
                            service=service, env=env, track=holder.kind, since=holder.since, who=holder.user):
                told += 1
        return told

    def run(self) -> None:
        """Until stopped: hold or wait for the lease; lead while holding it."""
        global _current
        _current = self
        while not self.stop.is_set():
            try:
                self.token = self.lease.acquire(self.rt.redis)
            except Exception:  # Redis away: stop leading until it answers again
                log.warning("scheduler %s cannot reach Redis", self.identity, exc_info=True)
                self.token = None
            if self.token is not None and self.aps is None:
                self._lead()
            elif self.token is None:
                self._follow()
            self.stop.wait(LEASE_TTL_MS / 3000)
        self._follow()
        try:
            self.lease.release(self.rt.redis)
        except Exception:
            pass
