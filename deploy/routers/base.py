"""The one small interface every traffic router implements."""

from __future__ import annotations

from dataclasses import dataclass

from deploy import render
from deploy.render import Target

PREVIEW_HEADER = "X-Dockyard-Preview"
PREVIEW_VALUE = "on"
PREVIEW_COOKIE = "dockyard-preview"


class RouterError(ValueError):
    """The router cannot express this split; the message says what to do instead."""


@dataclass(frozen=True)
class Split:
    """Where traffic goes: `weight`% to the canary, and the preview header to the preview track."""

    weight: int = 0
    preview: bool = False


class Router:
    """Renders the objects that split traffic between the tracks of one service."""

    name = ""
    header_routing = True  # can send requests with the preview header to the preview track
    weighted = True  # splits by request weight (False: by replica ratio)

    def services(self, target: Target, split: Split) -> list[dict]:
        """A Service per live track, each selecting only its track's pods."""
        tracks = ["stable"] + (["canary"] if split.weight else []) + (["preview"] if split.preview else [])
        return [render.service(target, track) for track in tracks]

    def objects(self, target: Target, split: Split) -> list[dict]:
        """The router's own objects (Ingress, VirtualService, HTTPRoute) for this split."""
        raise NotImplementedError

    def leftovers(self, target: Target, split: Split) -> list[tuple[str, str, str]]:
        """(apiVersion, kind, name) of objects a previous split needed and this one does not."""
        out = []
        if not split.weight:
            out.append(("v1", "Service", render.workload_name(target.name, "canary")))
        if not split.preview:
            out.append(("v1", "Service", render.workload_name(target.name, "preview")))
        return out

    def check(self, split: Split) -> None:
        """Raise RouterError when this router cannot do the split."""
        if split.preview and not self.header_routing:
            raise RouterError(f"a preview needs a router that matches headers (nginx, istio or gateway); "
                              f"this service uses {self.name}: set router: in rules/catalog.yaml")

    def describe(self, split: Split, stable_replicas: int) -> str:
        """How the split reads in chat."""
        parts = [f"{split.weight}% to canary"] if split.weight else []
        if split.preview:
            parts.append(f"preview for requests with {PREVIEW_HEADER}: {PREVIEW_VALUE}")
        return f"{', '.join(parts) or 'all traffic to stable'} ({self.name})"
