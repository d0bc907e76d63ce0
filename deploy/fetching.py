"""Read-only views of what runs in the cluster."""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException


def deployment_summary(apps: client.AppsV1Api, namespace: str, name: str) -> dict | None:
    """Desired/ready/updated replicas and image of a Deployment, or None if absent."""
    try:
        dep = apps.read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    status = dep.status
    containers = dep.spec.template.spec.containers
    return {
        "desired": dep.spec.replicas or 0,
        "ready": status.ready_replicas or 0,
        "updated": status.updated_replicas or 0,
        "available": status.available_replicas or 0,
        "image": containers[0].image if containers else "",
        "generation": dep.metadata.generation,
    }
