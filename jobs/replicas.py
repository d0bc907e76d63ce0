"""Replica jobs: /scale, /autoscale and /restart (across clusters where the environment spans them)."""

from __future__ import annotations

import time

from bots import commands as c
from bots import rollout_messages as say
from core import audit, runtime
from core.errors import PermanentError
from deploy import autoscaling, fetching, tracks
from jobs import rollout_clusters
from jobs.progress import Progress
from jobs.rollout_base import cluster_errors, finish, job_id, locale_of, now, places
from rules.workload import Autoscale


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

    Without cpu= the catalog's CPU target stays (80% when the catalog names no autoscaling). Across
    clusters each cluster's HPA gets its share of the range, split by the environment's weights."""
    locale = locale_of(reply_to)
    where = places(service, env, "autoscale")
    catalog = runtime.get().rules.catalog.services[service].environments[env].autoscale
    goals = Autoscale.asked_in_chat(min_replicas, max_replicas, cpu_percent, catalog)
    said = catalog.describe() if catalog else "none"
    if len(where) > 1:
        with cluster_errors():
            ranges, kept = rollout_clusters.autoscale(where, min_replicas, max_replicas, goals, who, now(),
                                                      lambda m: finish(reply_to, m), locale)
        if kept:  # a production change is audited wherever it stands, also when other clusters refused it
            shares = ", ".join(f"{c} {lo}–{hi}" for c, (lo, hi) in ranges.items() if c in kept)
            _audit(who, reply_to, f"autoscale {service} in {env}: {goals.describe()} ({shares}; catalog says {said})",
                   service, _applied(kept, where))
        return
    kube, target = where[0].kube, where[0].target
    with cluster_errors():
        if fetching.read_deployment(kube, target.namespace, service) is None:
            raise PermanentError(f"{service} ({env}) is not deployed yet")
        autoscaling.set_by_chat(kube, target, min_replicas, max_replicas, goals.cpu, who, now())
    _audit(who, reply_to, f"autoscale {service} in {env}: {goals.describe()} (catalog says {said})", service)
    finish(reply_to, say.autoscaling(service, env, min_replicas, max_replicas, goals.goals(), said, locale))


def autoscale_off(service: str, env: str, who: str, reply_to: dict) -> None:
    """/autoscale <svc> off: the HPA goes from every cluster of the environment; the replicas stay."""
    where = places(service, env, "autoscale")
    with cluster_errors():
        kept = rollout_clusters.autoscale_off(where, lambda m: finish(reply_to, m), locale_of(reply_to))
    if kept:
        on = f" (on {', '.join(kept)})" if len(where) > 1 else ""
        _audit(who, reply_to, f"autoscale {service} in {env}: off{on}", service, _applied(kept, where))


def _applied(kept: list[str], where: list) -> str:
    """The audit's result: the change stands everywhere, or only where a refusal elsewhere left it."""
    if len(kept) == len(where):
        return "applied"
    return f"applied on {', '.join(kept)} only: refused elsewhere"


def _audit(who: str, reply_to: dict, what: str, service: str, result: str = "applied") -> None:
    audit.record(runtime.get().redis, audit.Entry(who, reply_to.get("sink", "?"), what, service, result))


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
    if cmd.off:
        autoscale_off(cmd.service, cmd.env, who, reply_to)
    else:
        autoscale(cmd.service, cmd.env, cmd.min_replicas, cmd.max_replicas, cmd.cpu_percent, who, reply_to)

def restart_command(cmd: c.Restart, who: str, reply_to: dict) -> None:
    restart(cmd.service, cmd.env, who, reply_to)

