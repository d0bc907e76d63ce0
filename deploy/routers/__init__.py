"""Traffic routers: how a canary gets N% and a preview gets the header. One module each."""

from __future__ import annotations

from deploy.routers import gateway, istio, nginx, replicas
from deploy.routers.base import PREVIEW_COOKIE, PREVIEW_HEADER, PREVIEW_VALUE, Router, RouterError, Split


def router_for(kind: str) -> Router:
    """The router a catalog entry names."""
    routers: dict[str, Router] = {"nginx": nginx.NginxRouter(), "istio": istio.IstioRouter(),
                                  "gateway": gateway.GatewayRouter(), "replicas": replicas.ReplicaRouter()}
    return routers[kind]


__all__ = ["PREVIEW_COOKIE", "PREVIEW_HEADER", "PREVIEW_VALUE", "Router", "RouterError", "Split", "router_for"]
