"""Gateway API: an HTTPRoute with a header-matched preview rule and weighted backendRefs."""

from __future__ import annotations

from deploy import render
from deploy.render import Target
from deploy.routers.base import PREVIEW_HEADER, PREVIEW_VALUE, Router, Split


class GatewayRouter(Router):
    name = "gateway"

    def objects(self, target: Target, split: Split) -> list[dict]:
        def backend(track: str, weight: int) -> dict:
            return {"name": render.workload_name(target.name, track), "port": 80, "weight": weight}
        rules = []
        if split.preview:
            rules.append({"matches": [{"headers": [{"name": PREVIEW_HEADER, "value": PREVIEW_VALUE}]}],
                          "backendRefs": [backend("preview", 1)]})
        refs = [backend("stable", 100 - split.weight)] + ([backend("canary", split.weight)] if split.weight else [])
        rules.append({"backendRefs": refs})
        spec: dict = {"parentRefs": [{"name": target.service.gateway}], "rules": rules}
        if target.env.host:
            spec["hostnames"] = [target.env.host]
        return [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                 "metadata": {"name": target.name, "namespace": target.namespace,
                              "labels": render.labels(target, "stable")},
                 "spec": spec}]
