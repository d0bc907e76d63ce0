"""Dockyard's own least-privileged identity: a ServiceAccount with namespaced Roles.

Dockyard gets full control of the workloads in the namespaces the catalog
names (and its builds namespace), read access to nodes, and nothing else: no
Secrets, no workloads anywhere else, no cluster-wide writes.
"""

from __future__ import annotations

SERVICE_ACCOUNT = "dockyard"
SYSTEM_NAMESPACE = "dockyard-system"
BUILDS_NAMESPACE = "dockyard-builds"
WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"]
READ = ["get", "list", "watch"]

NAMESPACED_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale", "replicasets"], "verbs": WRITE},
    {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "endpoints"], "verbs": WRITE},
    {"apiGroups": [""], "resources": ["pods/log", "events"], "verbs": READ},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},  # registry credentials, by name
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": WRITE},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": WRITE},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": WRITE},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": WRITE},
    {"apiGroups": ["networking.istio.io"], "resources": ["virtualservices", "destinationrules"], "verbs": WRITE},
    {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"], "verbs": WRITE},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": READ},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": WRITE},
]


def _meta(name: str, namespace: str | None = None) -> dict:
    meta = {"name": name, "labels": {"app.kubernetes.io/part-of": "dockyard"}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def namespaces_of(catalog_namespaces: list[str]) -> list[str]:
    """Every namespace Dockyard works in: the catalog's plus its own two."""
    return sorted(set(catalog_namespaces) | {SYSTEM_NAMESPACE, BUILDS_NAMESPACE})


def render(catalog_namespaces: list[str]) -> list[dict]:
    """Namespaces, the ServiceAccount, a Role and RoleBinding per namespace, node read access."""
    namespaces = namespaces_of(catalog_namespaces)
    subject = {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": SYSTEM_NAMESPACE}
    objects: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns)} for ns in namespaces]
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(SERVICE_ACCOUNT, SYSTEM_NAMESPACE)})
    for ns in namespaces:
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                        "metadata": _meta("dockyard", ns), "rules": NAMESPACED_RULES})
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": _meta("dockyard", ns), "subjects": [subject],
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "dockyard"}})
    objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": _meta("dockyard-read-nodes"),
                    "rules": [{"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": READ}]})
    objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": _meta("dockyard-read-nodes"), "subjects": [subject],
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "dockyard-read-nodes"}})
    return objects
