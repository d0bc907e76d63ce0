"""ingress-nginx: a second Ingress with the canary annotations."""

from __future__ import annotations

from deploy import render
from deploy.render import Target
from deploy.routers.base import PREVIEW_COOKIE, PREVIEW_HEADER, PREVIEW_VALUE, Router, RouterError, Split

CANARY = "nginx.ingress.kubernetes.io/canary"


def _ingress(target: Target, name: str, backend: str, annotations: dict[str, str]) -> dict:
    rule: dict = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": backend, "port": {"name": "http"}}}}]}}
    if target.env.host:  # each environment its own host, so test traffic never reaches prod's Ingress
        rule["host"] = target.env.host
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": target.namespace, "labels": render.labels(target, "stable"),
                         "annotations": annotations},
            "spec": {"ingressClassName": "nginx", "rules": [rule]}}


class NginxRouter(Router):
    name = "nginx"

    def check(self, split: Split) -> None:
        super().check(split)
        if split.weight and split.preview:
            raise RouterError("ingress-nginx allows one canary Ingress per host: finish the canary "
                              "(/deploy <svc> promote or abort) before a preview, or use istio or gateway")

    def objects(self, target: Target, split: Split) -> list[dict]:
        out = [_ingress(target, target.name, target.name, {})]
        if split.weight:
            out.append(_ingress(target, f"{target.name}-canary", render.workload_name(target.name, "canary"),
                                {CANARY: "true", f"{CANARY}-weight": str(split.weight)}))
        elif split.preview:
            out.append(_ingress(target, f"{target.name}-canary", render.workload_name(target.name, "preview"), {
                CANARY: "true", f"{CANARY}-weight": "0", f"{CANARY}-by-header": PREVIEW_HEADER,
                f"{CANARY}-by-header-value": PREVIEW_VALUE, f"{CANARY}-by-cookie": PREVIEW_COOKIE}))
        return out

    def leftovers(self, target: Target, split: Split) -> list[tuple[str, str, str]]:
        out = super().leftovers(target, split)
        if not split.weight and not split.preview:
            out.append(("networking.k8s.io/v1", "Ingress", f"{target.name}-canary"))
        return out
