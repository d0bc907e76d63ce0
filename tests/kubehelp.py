"""Small helpers for tests on the local cluster."""

from __future__ import annotations

import uuid

from deploy.local.services import wait_until


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def deployment(name: str, image: str = "registry.local/shop/web:1", replicas: int = 2,
               pod_annotations: dict | None = None, node_class: str | None = None) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 8080}]}]}
    if node_class:
        spec["nodeSelector"] = {"dockyard.dev/node-class": node_class}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}, "annotations": pod_annotations or {}},
                              "spec": spec}},
    }


def pods_of(kube, namespace: str, app: str):
    return kube.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items


def ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def wait_pods(kube, namespace: str, app: str, count: int, predicate=ready, timeout: float = 30):
    wait_until(lambda: len([p for p in pods_of(kube, namespace, app) if predicate(p)]) == count, timeout,
               f"{count} pods of {app} in {namespace}")
    return pods_of(kube, namespace, app)
