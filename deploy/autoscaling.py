"""The HPA of a service's stable track: the catalog's, applied with every deploy, and /autoscale's changes to it.

An /autoscale change stands until the catalog's `autoscale:` for that environment changes: the
HPA remembers what the catalog said when the change was made, and a deploy compares. On an
environment split across clusters each cluster's HPA keeps that cluster's share of the range
(`split_range`), whether the range comes from the catalog or from /autoscale.
"""

from __future__ import annotations

from deploy import applying, fetching, render
from deploy.kube import Kube
from deploy.render import Target
from rules.clusters_model import split
from rules.workload import Autoscale

SET_BY = "dockyard.dev/autoscale-set-by"  # "alice at 2026-11-22T10:15:00Z": changed with /autoscale
CATALOG = "dockyard.dev/autoscale-catalog"  # what the catalog said when Dockyard last wrote the HPA


def catalog_says(target: Target) -> str:
    """The catalog's autoscaling for this environment, in words ('none' when it names none)."""
    return target.env.autoscale.describe() if target.env.autoscale else "none"


def converge(kube: Kube, target: Target) -> str:
    """Make the HPA what the catalog says, unless /autoscale changed it since; what was done, in words."""
    live = fetching.read_autoscaler(kube, target.namespace, target.name)
    notes = (live.metadata.annotations or {}) if live is not None else {}
    said = catalog_says(target)
    if live is not None and SET_BY in notes and notes.get(CATALOG) == said:
        return f"kept: set by {notes[SET_BY]} with /autoscale"
    wanted = render.catalog_autoscaler(target, {CATALOG: said})
    if wanted is not None:
        applying.apply(kube, wanted)
        return f"applied from the catalog: {said}"
    if live is not None and CATALOG in notes:  # Dockyard made it from a catalog entry that is gone
        applying.delete(kube, "autoscaling/v2", "HorizontalPodAutoscaler", target.name, target.namespace)
        return "removed: the catalog no longer autoscales"
    return "none"


def set_by_chat(kube: Kube, target: Target, low: int, high: int, cpu: int | None, who: str, at: str) -> None:
    """/autoscale: new bounds (and CPU target) over the catalog's metrics; stands until the catalog changes."""
    metrics = target.env.autoscale.metrics if target.env.autoscale else []
    applying.apply(kube, render.autoscaler(target, low, high, cpu, metrics,
                                           {SET_BY: f"{who} at {at}", CATALOG: catalog_says(target)}))


def remove_by_chat(kube: Kube, target: Target) -> bool:
    """/autoscale off: the HPA goes and the replicas stay where it left them; False when there was none."""
    return applying.delete(kube, "autoscaling/v2", "HorizontalPodAutoscaler", target.name, target.namespace)


def split_range(low: int, high: int, weights: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each cluster's (min, max) of a range split by the weights, as /scale splits a total.

    A cluster keeps at least one replica (an HPA cannot hold zero), so a min below the number of
    clusters adds up to more than asked; a max never falls below its cluster's min."""
    lows, highs = split(low, weights), split(high, weights)
    return {name: (max(1, lows[name]), max(1, lows[name], highs[name])) for name in weights}


def share(spec: Autoscale | None, weights: dict[str, int]) -> dict[str, Autoscale | None]:
    """The catalog's autoscale for each cluster of a split environment (the same metrics, its share of the range)."""
    if spec is None or len(weights) == 1:
        return {name: spec for name in weights}
    return {name: spec.model_copy(update={"min": low, "max": high})
            for name, (low, high) in split_range(spec.min, spec.max, weights).items()}


def snapshot(kube: Kube, target: Target) -> dict | None:
    """The live HPA as an object to apply again (to put a cluster back), or None when there is none."""
    live = fetching.read_autoscaler(kube, target.namespace, target.name)
    if live is None:
        return None
    obj = kube.api.sanitize_for_serialization(live)
    meta = obj["metadata"]
    obj["metadata"] = {key: meta[key] for key in ("name", "namespace", "labels", "annotations") if key in meta}
    obj.pop("status", None)
    return {**obj, "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler"}


def restore(kube: Kube, target: Target, before: dict | None) -> None:
    """Put the HPA back as `snapshot` saw it: the same object, or none."""
    if before is None:
        applying.delete(kube, "autoscaling/v2", "HorizontalPodAutoscaler", target.name, target.namespace)
    else:
        applying.apply(kube, before)


def describe(hpa: dict | None) -> str:
    """'2–10' for a snapshot (or 'no HPA'), in the words messages use."""
    return f"{hpa['spec'].get('minReplicas', 1)}–{hpa['spec']['maxReplicas']}" if hpa else "no HPA"
