"""Dockyard's own least-privileged identity: a ServiceAccount with namespaced Roles.

Every verb Dockyard holds is in one of the two tables below, next to the code
path that calls it; tests/test_security_rbac.py drives those paths on a real
cluster and fails on a grant nothing used. In the catalog's namespaces Dockyard
manages the workloads and traffic objects it renders and reads the ConfigMaps a
service's configuration names; in `dockyard-builds` it runs Kaniko Jobs. It
reads no Secrets at all: the build pod's registry and git Secrets, and the
Secrets a service's configuration names, are mounted or resolved by the kubelet,
by name, never read by Dockyard (a Role cannot grant a Secret's metadata without
its data, so not even its resourceVersion). No pod,
Endpoints or lease writes, nothing in any other namespace. One cluster-scoped read
(CLUSTER_GRANTS): listing nodes, so NotReady nodes become a cluster incident.
Leader election of the watcher is a Redis lock, not a Kubernetes Lease.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploy.build.kaniko import BUILDS_NAMESPACE

SERVICE_ACCOUNT = "dockyard"
SYSTEM_NAMESPACE = "dockyard-system"
USER = f"system:serviceaccount:{SYSTEM_NAMESPACE}:{SERVICE_ACCOUNT}"  # the name the apiserver knows it by


@dataclass(frozen=True)
class Grant:
    """One verb on one resource, and the Dockyard code that calls it."""

    group: str  # "" is the core API group
    resource: str  # "deployments", or "deployments/scale" for a subresource
    verb: str
    used_by: str


# Server-side apply is a PATCH; when the object does not exist yet the apiserver
# also checks `create`. So every applied kind needs both, and nothing more.
def _applied(group: str, resource: str, used_by: str) -> tuple[Grant, Grant]:
    return (Grant(group, resource, "patch", used_by),
            Grant(group, resource, "create", f"{used_by} (the first apply creates it)"))


CATALOG_GRANTS: tuple[Grant, ...] = (
    Grant("apps", "deployments", "get", "deploy.fetching.read_deployment: every rollout step, /status, /scale"),
    *_applied("apps", "deployments", "deploy.tracks.apply_track: a track's Deployment"),
    Grant("apps", "deployments", "delete", "deploy.tracks.remove_track: promote, abort, a failed canary"),
    Grant("apps", "deployments/scale", "patch", "jobs.replicas.scale: /scale"),
    Grant("apps", "replicasets", "list", "deploy.fetching.history: /history, /rollback, automatic rollback"),
    Grant("", "pods", "list", "deploy.fetching.pods: /status, /logs, not-ready reports; the watcher's relist "
                              "and a failed run's pod"),
    Grant("", "pods", "watch", "watcher.loop.Watcher"),
    Grant("", "pods/log", "get", "jobs.reads.logs (/logs), jobs.incidents._pod_logs (incident messages)"),
    Grant("", "events", "list", "deploy.fetching.warnings: /status, not-ready reports; the watcher's relist"),
    Grant("", "events", "watch", "watcher.loop.Watcher"),
    Grant("discovery.k8s.io", "endpointslices", "list", "watcher.loop.Watcher: relist, ready endpoints"),
    Grant("discovery.k8s.io", "endpointslices", "watch", "watcher.loop.Watcher"),
    *_applied("", "services", "deploy.tracks.apply_split: a Service per live track"),
    Grant("", "services", "delete", "deploy.tracks.apply_split: the Service of a finished canary or preview"),
    *_applied("policy", "poddisruptionbudgets", "deploy.tracks.apply_track: the stable track's PDB"),
    Grant("batch", "cronjobs", "get", "deploy.fetching.read_cron_job: /status of a scheduled job"),
    *_applied("batch", "cronjobs", "deploy.scheduled.apply_cron_job: /deploy of a scheduled job"),
    Grant("batch", "jobs", "list", "deploy.fetching.cron_job_summary: a scheduled job's runs; the watcher's relist"),
    Grant("batch", "jobs", "watch", "watcher.loop.Watcher: a scheduled job's runs (JobFailed)"),
    Grant("autoscaling", "horizontalpodautoscalers", "get",
          "deploy.tracks.hpa_exists, deploy.fetching.read_autoscaler: an HPA owns the replicas; deploys, /status"),
    *_applied("autoscaling", "horizontalpodautoscalers",
              "deploy.autoscaling: the catalog's HPA with every deploy, /autoscale"),
    Grant("autoscaling", "horizontalpodautoscalers", "delete",
          "deploy.autoscaling.converge: the HPA of a catalog autoscale: that was removed"),
    # Read, never written: a service's configuration lives in ConfigMaps its team owns. Secrets stay
    # unreadable: the catalog names them and the kubelet resolves them.
    Grant("", "configmaps", "get", "deploy.fetching.configmap_values: the config checksum of a deploy, /config"),
    *_applied("networking.k8s.io", "ingresses", "deploy.routers.nginx: the Ingress and the canary Ingress"),
    Grant("networking.k8s.io", "ingresses", "delete", "deploy.routers.nginx: the canary Ingress once unused"),
    *_applied("networking.istio.io", "virtualservices", "deploy.routers.istio: the VirtualService"),
    *_applied("gateway.networking.k8s.io", "httproutes", "deploy.routers.gateway: the HTTPRoute"),
)

BUILD_GRANTS: tuple[Grant, ...] = (
    Grant("batch", "jobs", "get", "jobs.build._earlier, _wait: is this commit built, has its Job finished"),
    *_applied("batch", "jobs", "jobs.build.run: the Kaniko Job"),
    Grant("batch", "jobs", "delete", "jobs.build.run: a failed build of the same commit starts over"),
    *_applied("", "configmaps", "jobs.build.run: the generated Dockerfile"),
    Grant("", "pods", "list", "jobs.build._pod_report: the failed build's pod"),
    Grant("", "pods/log", "get", "jobs.build._pod_report: its last log lines"),
)


# Cluster-scoped, in a ClusterRole: what the cluster's health check reads (watcher/clusters.py).
CLUSTER_GRANTS: tuple[Grant, ...] = (
    Grant("", "nodes", "list", "watcher.clusters.probe: NotReady nodes become a cluster incident"),
)


def grants_in(namespace: str, catalog_namespaces: list[str]) -> tuple[Grant, ...]:
    """What Dockyard may do in one namespace (empty outside the catalog's and the builds namespace)."""
    out: tuple[Grant, ...] = ()
    if namespace in catalog_namespaces:
        out += CATALOG_GRANTS
    if namespace == BUILDS_NAMESPACE:
        out += BUILD_GRANTS
    return out


def rules(grants: tuple[Grant, ...]) -> list[dict]:
    """Role rules, one per (group, resource), verbs in table order."""
    verbs: dict[tuple[str, str], list[str]] = {}
    for grant in grants:
        listed = verbs.setdefault((grant.group, grant.resource), [])
        if grant.verb not in listed:
            listed.append(grant.verb)
    return [{"apiGroups": [group], "resources": [resource], "verbs": listed}
            for (group, resource), listed in verbs.items()]


def _meta(name: str, namespace: str | None = None) -> dict:
    meta = {"name": name, "labels": {"app.kubernetes.io/part-of": "dockyard"}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def namespaces_of(catalog_namespaces: list[str]) -> list[str]:
    """Every namespace Dockyard works in: the catalog's plus its own two."""
    return sorted(set(catalog_namespaces) | {SYSTEM_NAMESPACE, BUILDS_NAMESPACE})


def render(catalog_namespaces: list[str]) -> list[dict]:
    """Namespaces, the ServiceAccount, and a Role and RoleBinding where Dockyard has work to do."""
    namespaces = namespaces_of(catalog_namespaces)
    subject = {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": SYSTEM_NAMESPACE}
    objects: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns)} for ns in namespaces]
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(SERVICE_ACCOUNT, SYSTEM_NAMESPACE)})
    for ns in namespaces:
        grants = grants_in(ns, catalog_namespaces)
        if not grants:  # dockyard-system only holds the ServiceAccount: Dockyard calls nothing there
            continue
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                        "metadata": _meta("dockyard", ns), "rules": rules(grants)})
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": _meta("dockyard", ns), "subjects": [subject],
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "dockyard"}})
    objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": _meta("dockyard-cluster-health"), "rules": rules(CLUSTER_GRANTS)})
    objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": _meta("dockyard-cluster-health"), "subjects": [subject],
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "dockyard-cluster-health"}})
    return objects
