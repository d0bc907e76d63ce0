"""What every rollout job shares: the clusters it acts on, its lock, its id, its errors and its final message."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime, timezone

from rq import get_current_job

from bots import cluster_messages as cluster_say
from bots.message import Message
from core import runtime
from core.errors import PermanentError
from deploy import api_errors, fanout
from deploy.render import Target
from deploy.routers import RouterError
from jobs.notify import deliver, locale_of  # locale_of: also for the jobs importing it here
from rules import cronjob
from state import locks


def places(service: str, env: str, action: str = "deploy") -> list[fanout.Place]:
    """The clusters the environment lies on, each answering; PermanentError when `action` makes no sense."""
    rt = runtime.get()
    if rt.settings.kubeconfig is None and not rt.rules.catalog.clusters:
        raise PermanentError("no cluster configured: set KUBECONFIG (make run starts a local cluster)")
    if service not in rt.rules.catalog.services or env not in rt.rules.catalog.services[service].environments:
        raise PermanentError(f"{service} ({env}) is not in the catalog")
    if rt.rules.catalog.services[service].kind == "cronjob":  # the pipeline refuses these first; an approval may not
        refused = cronjob.refusal(service, action)
        if refused:
            raise PermanentError(refused)
    where = fanout.places(rt, service, env)
    down = fanout.unreachable(rt, where)
    if down:
        raise PermanentError(cluster_say.unreachable(service, env, down))
    return where


@contextlib.contextmanager
def cluster_errors() -> Iterator[None]:
    """Kubernetes errors as retry decisions (deploy/api_errors.py); a router's refusal is permanent."""
    try:
        with api_errors.translated():
            yield
    except RouterError as exc:
        raise PermanentError(str(exc)) from None


def job_id() -> str:
    job = get_current_job()
    return job.id if job else f"inline-{time.time_ns()}"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lock(target: Target, me: locks.Holder, ttl: int, joinable: tuple[str, ...] = ()) -> locks.Holder:
    """Take the service's rollout lock, joining a live rollout of a joinable kind; PermanentError when busy."""
    redis = runtime.get().redis
    current = locks.holder(redis, target.name, target.env_name)
    if current and current.kind in joinable:
        me = locks.Holder(rollout=current.rollout, user=me.user, what=me.what, kind=me.kind)
    busy = locks.acquire(redis, target.name, target.env_name, me, ttl)
    if busy:
        raise PermanentError(locks.busy_message(target.name, target.env_name, busy))
    return me


def release(target: Target, holder: locks.Holder) -> None:
    locks.release(runtime.get().redis, target.name, target.env_name, holder.rollout)


def finish(reply_to: dict, message: Message) -> None:
    deliver(reply_to, message, dedupe_key=f"final:{job_id()}")


