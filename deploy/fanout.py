"""One service's environment as it lies on its clusters: one Place per cluster, and work run on each in parallel.

A catalog with one cluster gives one Place, so single- and multi-cluster callers are the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from core.runtime import Runtime
from deploy import autoscaling, clusters
from deploy.kube import Kube
from deploy.render import Target

T = TypeVar("T")


@dataclass(frozen=True)
class Place:
    """The service's environment on one cluster, with that cluster's share of the replicas (and autoscale range)."""

    cluster: str
    kube: Kube
    target: Target


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What work on one cluster returned, or the error it raised."""

    cluster: str
    value: T | None = None
    error: BaseException | None = None


def places(rt: Runtime, service: str, env: str) -> list[Place]:
    """Every cluster the catalog places the environment on, in the catalog's order."""
    base = Target.of(rt.rules, service, env)
    # the catalog's autoscale range is split like the replicas: two clusters at 2–10 each would be 4–20
    ranges = autoscaling.share(base.env.autoscale, rt.rules.catalog.weights(service, env))
    out = []
    for name, replicas in rt.rules.catalog.placement(service, env).items():
        target = replace(base, env=base.env.model_copy(update={"replicas": replicas, "autoscale": ranges[name]}))
        out.append(Place(name, clusters.kube_for(rt, name), target))
    return out


def unreachable(rt: Runtime, where: list[Place]) -> dict[str, str]:
    """The clusters among `where` whose API does not answer now, with why (empty: all answer)."""
    if len(where) == 1 and where[0].cluster not in rt.rules.catalog.clusters:
        return {}  # the one KUBECONFIG cluster: its own calls say what is wrong, as before clusters existed
    answers = clusters.check_all(rt, [p.cluster for p in where])
    return {name: why for name, why in answers.items() if why}


def each(where: list[Place], work: Callable[[Place], T]) -> list[Outcome[T]]:
    """Run `work` on every place at once; one cluster's error does not stop the others."""
    def run(place: Place) -> Outcome[T]:
        try:
            return Outcome(place.cluster, value=work(place))
        except Exception as exc:  # reported per cluster by the caller, who decides what the others do
            return Outcome(place.cluster, error=exc)

    if len(where) == 1:
        return [run(where[0])]
    with ThreadPoolExecutor(max_workers=len(where)) as pool:
        return list(pool.map(run, where))
