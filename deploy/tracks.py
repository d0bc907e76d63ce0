"""Rollout steps on the cluster: apply a track, wait for it, split traffic, roll back.

No chat here: callers get data back, or RolloutFailed saying why.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from kubernetes.client.exceptions import ApiException

from core.errors import PermanentError
from deploy import applying, autoscaling, fetching, render
from deploy.kube import Kube
from deploy.render import Target
from deploy.routers import Router, Split
from deploy.routers.replicas import canary_replicas

WEIGHT = "dockyard.dev/canary-weight"
POLL_SECONDS = 0.5


class RolloutFailed(Exception):
    """A rollout did not converge: `reason` plus the pods that were not ready."""

    def __init__(self, reason: str, details: list[str]):
        super().__init__(reason)
        self.reason, self.details = reason, details


@dataclass(frozen=True)
class Change:
    """Who changes what, for annotations and rollout history."""

    who: str
    cause: str
    at: str


def hpa_exists(kube: Kube, target: Target) -> bool:
    try:
        kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(target.name, target.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def config_checksum(kube: Kube, target: Target) -> str | None:
    """The configuration's checksum from the ConfigMap keys it reads now; PermanentError naming a missing one.

    Secrets are referenced by name and never read (Dockyard holds no Secret access), so a rotated
    Secret rolls nothing: /restart does."""
    config = target.config
    if not config.env and not config.files:
        return None
    values = fetching.configmap_values(kube, target.namespace, config.configmaps)
    missing = [pair for pair, value in values.items() if value is None]
    if missing:
        cm, key = missing[0]
        raise PermanentError(f"{target.name} ({target.env_name}) reads key {key!r} of ConfigMap {cm}, which "
                             f"{target.namespace} does not have: create it (kubectl -n {target.namespace} create "
                             f"configmap {cm} --from-file={key}=...) or change config: in the catalog, then deploy")
    return render.config_checksum(config, {pair: value for pair, value in values.items() if value is not None})


def apply_track(kube: Kube, target: Target, image: str, change: Change, track: str = "stable",
                replicas: int | None = None, annotations: dict[str, str] | None = None) -> None:
    """Server-side apply one track's Deployment (and, for stable, its PDB and the catalog's HPA).

    An existing stable keeps its replica count, which its HPA may have set."""
    name = render.workload_name(target.name, track)
    existing = fetching.read_deployment(kube, target.namespace, name)
    if replicas is None and existing is not None:
        replicas = existing.spec.replicas
    obj = render.deployment(target, image, track=track, replicas=replicas, change_cause=change.cause,
                            deployed_by=change.who, deployed_at=change.at, extra_annotations=annotations,
                            config_checksum=config_checksum(kube, target))
    if track == "stable" and existing is None and hpa_exists(kube, target):
        del obj["spec"]["replicas"]  # the HPA owns it
    applying.apply(kube, obj)
    if track == "stable":
        applying.apply(kube, render.pod_disruption_budget(target))
        autoscaling.converge(kube, target)


def wait_rollout(kube: Kube, target: Target, track: str, on_progress: Callable[[dict], None],
                 timeout: float | None = None) -> dict:
    """Block until the track's Deployment is fully rolled out; RolloutFailed past its progress deadline."""
    name = render.workload_name(target.name, track)
    deadline = time.monotonic() + (timeout or target.env.progress_deadline * 2 + 30)
    while True:
        dep = fetching.read_deployment(kube, target.namespace, name)
        if dep is None:
            raise RolloutFailed(f"Deployment {name} disappeared from {target.namespace}", [])
        status = dep.status
        desired = dep.spec.replicas or 0
        summary = {"desired": desired, "updated": status.updated_replicas or 0, "ready": status.ready_replicas or 0,
                   "available": status.available_replicas or 0, "total": status.replicas or 0}
        on_progress(summary)
        observed = (status.observed_generation or 0) >= (dep.metadata.generation or 0)
        if observed and summary["updated"] == desired and summary["available"] == desired \
                and summary["total"] == desired:
            return summary
        stalled = any(c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"
                      for c in status.conditions or [])
        if stalled or time.monotonic() > deadline:
            selector = {"app": target.name, "track": track}
            details = fetching.not_ready_report(kube, target.namespace, selector)
            raise RolloutFailed(f"no progress for {target.env.progress_deadline}s "
                                f"({summary['updated']}/{desired} updated, {len(details)} not ready)", details)
        time.sleep(POLL_SECONDS)


def track_replicas(router: Router, stable: int, weight: int) -> int:
    """Pods for a canary taking weight% (weighted routers need enough to carry their share)."""
    if not router.weighted:
        return canary_replicas(stable, weight)
    return max(1, math.ceil(stable * weight / 100))


def apply_split(kube: Kube, target: Target, router: Router, split: Split) -> None:
    """Point traffic at the live tracks: Services, the router's objects, and delete what is no longer needed."""
    router.check(split)
    applying.apply_all(kube, router.services(target, split) + router.objects(target, split))
    for api_version, kind, name in router.leftovers(target, split):
        applying.delete(kube, api_version, kind, name, target.namespace)


def live_split(kube: Kube, target: Target) -> Split:
    """The split in force now, read from the canary and preview Deployments."""
    canary = fetching.read_deployment(kube, target.namespace, render.workload_name(target.name, "canary"))
    preview = fetching.read_deployment(kube, target.namespace, render.workload_name(target.name, "preview"))
    weight = int((canary.metadata.annotations or {}).get(WEIGHT, "0")) if canary else 0
    return Split(weight=weight, preview=preview is not None)


def remove_track(kube: Kube, target: Target, track: str) -> bool:
    return applying.delete(kube, "apps/v1", "Deployment", render.workload_name(target.name, track),
                           target.namespace)


def stable_replicas(kube: Kube, target: Target) -> int:
    dep = fetching.read_deployment(kube, target.namespace, target.name)
    return dep.spec.replicas if dep is not None and dep.spec.replicas is not None else target.env.replicas
