"""Manifests from a catalog entry: pure functions, with the defaults the seed teams learned.

Every workload gets: readiness by app type (HTTP GET on the health path, or TCP
on the port for RPC), a liveness probe with a generous initial delay, a
startupProbe for slow-starting JVM services, a preStop drain so endpoints are
removed before the process stops, spreading across nodes, and requests set to
limits × the node class's overcommit ratio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rules.models import Environment, Rules, Service

RESOURCE_PRESET = re.compile(r"^(\d+(?:\.\d+)?)C(\d+)G$")
JVM_LANGUAGES = ("java-maven", "java-gradle")
TRACKS = ("stable", "canary", "preview")
DRAIN_SECONDS = 10  # ingress controllers and kube-proxy need this long to drop the endpoint
NODE_CLASS_LABEL = "dockyard.dev/node-class"


@dataclass(frozen=True)
class Target:
    """One service in one environment: everything rendering needs from the rules."""

    name: str
    env_name: str
    service: Service
    env: Environment
    overcommit: float
    repository: str

    @property
    def namespace(self) -> str:
        return self.env.namespace

    @staticmethod
    def of(rules: Rules, name: str, env_name: str) -> "Target":
        service = rules.catalog.services[name]
        env = service.environments[env_name]
        return Target(name, env_name, service, env, rules.catalog.node_classes[env.node_class].overcommit,
                      rules.image_repository(name))


def workload_name(name: str, track: str) -> str:
    return name if track == "stable" else f"{name}-{track}"


def version_of(image: str) -> str:
    """The tag of an image as a label value (at most 63 of [A-Za-z0-9_.-])."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.") or "unknown"


def resources(preset: str, overcommit: float) -> dict:
    """'1C2G' → limits 1 CPU / 2Gi, requests = limits × overcommit."""
    match = RESOURCE_PRESET.match(preset)
    if not match:
        raise ValueError(f"resource preset {preset!r} is not like 1C2G")
    cores, gib = float(match.group(1)), int(match.group(2))
    return {
        "limits": {"cpu": f"{int(cores * 1000)}m", "memory": f"{gib * 1024}Mi"},
        "requests": {"cpu": f"{max(1, int(cores * 1000 * overcommit))}m",
                     "memory": f"{max(1, int(gib * 1024 * overcommit))}Mi"},
    }


def _probe_action(service: Service) -> dict:
    if service.app_type == "http":
        return {"httpGet": {"path": service.health_path, "port": "http"}}
    return {"tcpSocket": {"port": "http"}}


def probes(service: Service) -> dict:
    action = _probe_action(service)
    jvm = service.language in JVM_LANGUAGES
    out = {
        "readinessProbe": {**action, "initialDelaySeconds": 5, "periodSeconds": 5, "timeoutSeconds": 3,
                           "failureThreshold": 3},
        "livenessProbe": {**action, "initialDelaySeconds": 30 if jvm else 60, "periodSeconds": 10,
                          "timeoutSeconds": 3, "failureThreshold": 3},
    }
    if jvm:  # up to 5 minutes to start before liveness may kill it
        out["startupProbe"] = {**action, "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 30}
    return out


def labels(target: Target, track: str, image: str | None = None) -> dict[str, str]:
    out = {"app": target.name, "team": target.service.team, "track": track,
           "app.kubernetes.io/managed-by": "dockyard"}
    if image:
        out["version"] = version_of(image)
    return out


def deployment(target: Target, image: str, *, track: str = "stable", replicas: int | None = None,
               change_cause: str = "", deployed_by: str = "", deployed_at: str = "",
               extra_annotations: dict[str, str] | None = None) -> dict:
    """The Deployment of one track (stable, canary or preview) of a service."""
    name = workload_name(target.name, track)
    pod_labels = labels(target, track, image)
    selector = {"app": target.name, "track": track}
    annotations = {"kubernetes.io/change-cause": change_cause, "dockyard.dev/deployed-by": deployed_by,
                   "dockyard.dev/deployed-at": deployed_at, **(extra_annotations or {})}
    container = {
        "name": target.name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": target.service.port, "protocol": "TCP"}],
        "env": [{"name": "DOCKYARD_SERVICE", "value": target.name},
                {"name": "DOCKYARD_ENV", "value": target.env_name}],
        "resources": resources(target.env.resources, target.overcommit),
        **probes(target.service),
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", f"sleep {DRAIN_SECONDS}"]}}},
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": target.namespace, "labels": labels(target, track),
                     "annotations": {k: v for k, v in annotations.items() if v}},
        "spec": {
            "replicas": target.env.replicas if replicas is None else replicas,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": target.env.progress_deadline,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "containers": [container],
                    "terminationGracePeriodSeconds": DRAIN_SECONDS + 30,
                    "nodeSelector": {NODE_CLASS_LABEL: target.env.node_class},
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100, "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app": target.name, "track": track}}}}]}},
                },
            },
        },
    }


def service(target: Target, track: str, all_tracks: bool = False) -> dict:
    """A Service for one track; with all_tracks it selects every pod of the app (replica-ratio canaries)."""
    selector = {"app": target.name} if all_tracks else {"app": target.name, "track": track}
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": workload_name(target.name, track), "namespace": target.namespace,
                     "labels": labels(target, track)},
        "spec": {"selector": selector,
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
    }


def pod_disruption_budget(target: Target) -> dict:
    """Voluntary evictions (node drains) keep at least min_ready pods of the stable track."""
    return {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": labels(target, "stable")},
        "spec": {"minAvailable": min(target.env.min_ready, max(target.env.replicas - 1, 0)),
                 "selector": {"matchLabels": {"app": target.name, "track": "stable"}}},
    }


def autoscaler(target: Target, min_replicas: int, max_replicas: int, cpu_percent: int) -> dict:
    """An autoscaling/v2 HPA on the stable Deployment's CPU utilisation."""
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": labels(target, "stable")},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target.name},
                 "minReplicas": min_replicas, "maxReplicas": max_replicas,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                     "type": "Utilization", "averageUtilization": cpu_percent}}}]},
    }
