"""Replica jobs: /scale, /autoscale and /restart (across clusters where the environment spans them)."""

from __future__ import annotations

import time

from bots import commands as c
from bots import rollout_messages as say
from core import audit, runtime
from core.errors import PermanentError
from deploy import autoscaling, fetching, tracks
from deploy.kube import Kube
from deploy.render import Target
from jobs import rollout_clusters
from jobs.progress import Progress
from jobs.rollout_base import cluster_errors, finish, job_id, locale_of, now, places
from rules.workload import Autoscale


def _context(service: str, env: str, action: str) -> tuple[Kube, Target]:
    """The one cluster and the target of a change that is not made across clusters (/autoscale)."""
    where = places(service, env, action)
    if len(where) > 1:
        raise PermanentError(f"{service} ({env}) spans clusters {', '.join(p.cluster for p in where)}: /{action} "
                             f"is not split across clusters yet; set autoscale: per environment in the catalog")
    return where[0].kube, where[0].target


def scale(service: str, env: str, replicas: int, who: str, reply_to: dict) -> None:
    """/scale <svc> <n> (across clusters: the total, split by the environment's weights)."""
    locale = locale_of(reply_to)
    where = places(service, env, "scale")
    kube, target = where[0].kube, where[0].target
    if len(where) > 1:
        with cluster_errors():
            rollout_clusters.scale(where, replicas, Progress(reply_to, job_id()), lambda m: finish(reply_to, m))
        return
    with cluster_errors():
        if fetching.read_deployment(kube, target.namespace, service) is None:
            raise PermanentError(f"{service} ({env}) is not deployed yet")
        if tracks.hpa_exists(kube, target):
            raise PermanentError(f"{service} ({env}) is autoscaled: change the range with /autoscale instead")
        before = tracks.stable_replicas(kube, target)
        kube.apps.patch_namespaced_deployment_scale(service, target.namespace, {"spec": {"replicas": replicas}})
        progress = Progress(reply_to, job_id())
        what = f"scale {before} → {replicas}"
        started = time.monotonic()
        summary = tracks.wait_rollout(kube, target, "stable",
                                     lambda s: progress.show(say.progress(service, env, what, s, locale=locale)))
    finish(reply_to, say.done(service, env, what, summary, time.monotonic() - started, locale=locale))


def autoscale(service: str, env: str, min_replicas: int, max_replicas: int, cpu_percent: int | None, who: str,
              reply_to: dict) -> None:
    """/autoscale <svc> <min>-<max> [cpu=<pct>%]: the HPA's bounds (over the catalog's metrics), audited.

    Without cpu= the catalog's CPU target stays (80% when the catalog names no autoscaling)."""
    kube, target = _context(service, env, "autoscale")
    goals = Autoscale.asked_in_chat(min_replicas, max_replicas, cpu_percent, target.env.autoscale)
    with cluster_errors():
        if fetching.read_deployment(kube, target.namespace, service) is None:
            raise PermanentError(f"{service} ({env}) is not deployed yet")
        autoscaling.set_by_chat(kube, target, min_replicas, max_replicas, goals.cpu, who, now())
    said = autoscaling.catalog_says(target)
    audit.record(runtime.get().redis, audit.Entry(
        who, reply_to.get("sink", "?"), f"autoscale {service} in {env}: {goals.describe()} (catalog says {said})",
        service, "applied"))
    finish(reply_to, say.autoscaling(service, env, min_replicas, max_replicas, goals.goals(), said))


def restart(service: str, env: str, who: str, reply_to: dict) -> None:
    """/restart <svc>: a rolling restart, one pod at a time (like kubectl rollout restart)."""
    locale = locale_of(reply_to)
    where = places(service, env, "restart")
    kube, target = where[0].kube, where[0].target
    if len(where) > 1:
        first = bool(runtime.get().redis.set(f"dockyard:restart:{job_id()}", "1", nx=True, ex=3600))
        with cluster_errors():  # a retried job waits again but must not restart twice
            rollout_clusters.restart(where, now() if first else None, Progress(reply_to, job_id()),
                                     lambda m: finish(reply_to, m))
        return
    with cluster_errors():
        if fetching.read_deployment(kube, target.namespace, service) is None:
            raise PermanentError(f"{service} ({env}) is not deployed yet")
        patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now()}}}}}
        job_patch_key = f"dockyard:restart:{job_id()}"
        redis = runtime.get().redis
        if redis.set(job_patch_key, "1", nx=True, ex=3600):  # a retried job must not restart twice
            kube.apps.patch_namespaced_deployment(service, target.namespace, patch)
        progress = Progress(reply_to, job_id())
        started = time.monotonic()
        summary = tracks.wait_rollout(kube, target, "stable",
                                     lambda s: progress.show(say.progress(service, env, "restart", s, locale=locale)))
    finish(reply_to, say.done(service, env, "restart", summary, time.monotonic() - started, locale=locale))


# The chat verbs' jobs (named by their command classes in bots/commands/).

def scale_command(cmd: c.Scale, who: str, reply_to: dict) -> None:
    scale(cmd.service, cmd.env, cmd.replicas, who, reply_to)

def autoscale_command(cmd: c.Autoscale, who: str, reply_to: dict) -> None:
    autoscale(cmd.service, cmd.env, cmd.min_replicas, cmd.max_replicas, cmd.cpu_percent, who, reply_to)

def restart_command(cmd: c.Restart, who: str, reply_to: dict) -> None:
    restart(cmd.service, cmd.env, who, reply_to)

