"""The HPA of a service's stable track: the catalog's, applied with every deploy, and /autoscale's changes to it.

An /autoscale change stands until the catalog's `autoscale:` for that environment changes: the
HPA remembers what the catalog said when the change was made, and a deploy compares.
"""

from __future__ import annotations

from deploy import applying, fetching, render
from deploy.kube import Kube
from deploy.render import Target

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
