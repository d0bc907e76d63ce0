"""Istio: one VirtualService with a header-matched preview route and weighted destinations."""

from __future__ import annotations

from deploy import render
from deploy.render import Target
from deploy.routers.base import PREVIEW_HEADER, PREVIEW_VALUE, Router, Split


class IstioRouter(Router):
    name = "istio"

    def objects(self, target: Target, split: Split) -> list[dict]:
        def dest(track: str, weight: int) -> dict:
            return {"destination": {"host": render.workload_name(target.name, track), "port": {"number": 80}},
                    "weight": weight}
        http = []
        if split.preview:
            http.append({"name": "preview", "match": [{"headers": {PREVIEW_HEADER.lower(): {"exact": PREVIEW_VALUE}}}],
                         "route": [dest("preview", 100)]})
        weighted = [dest("stable", 100 - split.weight)] + ([dest("canary", split.weight)] if split.weight else [])
        http.append({"name": "primary", "route": weighted})
        return [{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                 "metadata": {"name": target.name, "namespace": target.namespace,
                              "labels": render.labels(target, "stable")},
                 "spec": {"hosts": [target.env.host or target.name], "http": http}}]
