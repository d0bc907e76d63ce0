"""Writes to the cluster: server-side apply with field manager `dockyard`, and deletes."""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException

from deploy.kube import Kube

FIELD_MANAGER = "dockyard"


def apply(kube: Kube, obj: dict) -> dict:
    """Server-side apply one object; Dockyard owns the fields it sets and takes them back on conflict."""
    resource = kube.dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    meta = obj["metadata"]
    result = resource.server_side_apply(body=obj, name=meta["name"], namespace=meta.get("namespace"),
                                        field_manager=FIELD_MANAGER, force_conflicts=True)
    return result.to_dict()


def apply_all(kube: Kube, objects: list[dict]) -> None:
    for obj in objects:
        apply(kube, obj)


def delete(kube: Kube, api_version: str, kind: str, name: str, namespace: str) -> bool:
    """Delete an object; False when it was already gone (so a retried job is fine)."""
    resource = kube.dynamic.resources.get(api_version=api_version, kind=kind)
    try:
        resource.delete(name=name, namespace=namespace, propagation_policy="Background")
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True
