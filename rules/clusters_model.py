"""The catalog's clusters: where each is reached, and how an environment's replicas are placed on them.

A catalog that names no clusters has one, `default`, reached through KUBECONFIG: every
environment lives there. With `clusters:`, each environment names its cluster, or several
with weights (`{east: 3, west: 2}` puts 3 of 5 replicas in east), and what happens to the
others when one cluster's rollout fails (`on_failure: rollback` or `hold`, on the catalog's environment).
"""

from __future__ import annotations

import re
from pydantic import field_validator, model_validator

from rules.strict import Strict

DEFAULT_CLUSTER = "default"
CLUSTER_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


class Cluster(Strict):
    """How Dockyard reaches one cluster: a kubeconfig file (and context), or the pod's own credentials."""

    kubeconfig: str | None = None  # a path; relative paths are relative to the rules directory
    context: str | None = None  # the kubeconfig's context (its current one when unset)
    in_cluster: bool = False  # the ServiceAccount Dockyard runs as, when it runs in this cluster
    labels: dict[str, str] = {}  # region, zone...: shown in messages, matched by routes

    @model_validator(mode="after")
    def _one_way(self) -> "Cluster":
        if self.in_cluster == bool(self.kubeconfig):
            raise ValueError("needs exactly one of `kubeconfig: <path>` (with an optional `context:`) "
                             "or `in_cluster: true`")
        if self.in_cluster and self.context:
            raise ValueError("`context:` belongs with `kubeconfig:`; in_cluster uses the pod's ServiceAccount")
        return self


class Placed(Strict):
    """Base of an environment that may name its clusters: `cluster: east` or `clusters: {east: 3, west: 2}`."""

    clusters: dict[str, int] | None = None  # name -> weight (or the count itself); None: decided elsewhere

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        """`cluster: east` is short for `clusters: {east: 1}`."""
        if isinstance(data, dict) and "cluster" in data:
            data = dict(data)
            name = data.pop("cluster")
            if "clusters" in data:
                raise ValueError("write `cluster: <name>` or `clusters: {<name>: weight, ...}`, not both")
            data["clusters"] = {name: 1} if isinstance(name, str) else name
        return data

    @field_validator("clusters")
    @classmethod
    def _weights(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one cluster, like {east: 3, west: 2}")
        for name, weight in value.items():
            if not CLUSTER_NAME.match(name):
                raise ValueError(f"cluster name {name!r} must be lower-case letters, digits and '-'")
            if weight < 1:
                raise ValueError(f"cluster {name}: a weight is a whole number from 1, like {{east: 3, west: 2}}")
        return value


def split(replicas: int, weights: dict[str, int]) -> dict[str, int]:
    """Replicas per cluster in proportion to the weights, summing to `replicas` (largest remainder).

    Ties go to the cluster listed first, so the same catalog always gives the same split.
    """
    total = sum(weights.values())
    if not weights or total <= 0:
        return {}
    exact = {name: replicas * weight / total for name, weight in weights.items()}
    out = {name: int(share) for name, share in exact.items()}
    order = sorted(weights, key=lambda n: (-(exact[n] - out[n]), list(weights).index(n)))
    for name in order[:replicas - sum(out.values())]:
        out[name] += 1
    return out
