"""No router: one Service over every track, so traffic follows the replica ratio."""

from __future__ import annotations

from deploy import render
from deploy.render import Target
from deploy.routers.base import Router, Split


def canary_replicas(stable: int, weight: int) -> int:
    """Canary pods beside `stable` ones so that canary/(stable+canary) comes closest to weight%."""
    if weight <= 0:
        return 0
    return max(1, round(stable * weight / (100 - weight)))


def actual_percent(stable: int, canary: int) -> int:
    return round(100 * canary / (stable + canary)) if stable + canary else 0


class ReplicaRouter(Router):
    name = "replicas"
    header_routing = False
    weighted = False

    def services(self, target: Target, split: Split) -> list[dict]:
        return [render.service(target, "stable", all_tracks=True)]

    def objects(self, target: Target, split: Split) -> list[dict]:
        return []

    def describe(self, split: Split, stable_replicas: int) -> str:
        if not split.weight:
            return "all traffic to stable (replicas)"
        canary = canary_replicas(stable_replicas, split.weight)
        total = stable_replicas + canary
        return (f"{split.weight}% asked, {canary} of {total} pods = {actual_percent(stable_replicas, canary)}% "
                f"actual (replicas: no router, the Service spreads requests over every pod)")
