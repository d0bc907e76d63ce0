"""Manifests from a catalog entry: pure functions, with the defaults the seed teams learned.

Every workload gets: readiness by app type (HTTP GET on the health path, or TCP
on the port for RPC), a liveness probe with a generous initial delay, a
startupProbe for slow-starting JVM services, a preStop drain so endpoints are
removed before the process stops, spreading across nodes, CPU requests set to
limits × the node class's overcommit ratio and memory requests = limits (unless
the class sets memory_overcommit). The catalog may change each of these per
service (probes, lifecycle, service_type, dns_options, zone_spread) and adds
configuration (variables, references, files) and an HPA per environment.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from rules.models import JVM_LANGUAGES, Environment, Rules, Service
from rules.workload import Autoscale, Config, Metric, Probe, ValueRef, parse_preset

TRACKS = ("stable", "canary", "preview")
NODE_CLASS_LABEL = "dockyard.dev/node-class"
ZONE_LABEL = "topology.kubernetes.io/zone"
CONFIG_CHECKSUM = "dockyard.dev/config-checksum"  # on the pod template: a configuration change rolls the pods


@dataclass(frozen=True)
class Target:
    """One service in one environment: everything rendering needs from the rules."""

    name: str
    env_name: str
    service: Service
    env: Environment
    overcommit: float
    repository: str
    memory_overcommit: float = 1.0

    @property
    def config(self) -> Config:
        return self.service.config_in(self.env_name)

    @property
    def namespace(self) -> str:
        return self.env.namespace

    @staticmethod
    def of(rules: Rules, name: str, env_name: str) -> "Target":
        service = rules.catalog.services[name]
        env = service.environments[env_name]
        node_class = rules.catalog.node_classes[env.node_class]
        return Target(name, env_name, service, env, node_class.overcommit, rules.image_repository(name),
                      node_class.memory_overcommit)


def workload_name(name: str, track: str) -> str:
    return name if track == "stable" else f"{name}-{track}"


def version_of(image: str) -> str:
    """The tag of an image as a label value (at most 63 of [A-Za-z0-9_.-])."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.") or "unknown"


def resources(preset: str, overcommit: float, memory_overcommit: float = 1.0) -> dict:
    """'1C2G' → limits 1 CPU / 2048Mi; CPU requests = limits × overcommit, memory × memory_overcommit."""
    millicores, mib = parse_preset(preset)
    return {
        "limits": {"cpu": f"{millicores}m", "memory": f"{mib}Mi"},
        "requests": {"cpu": f"{max(1, int(millicores * overcommit))}m",
                     "memory": f"{max(1, int(mib * memory_overcommit))}Mi"},
    }


# Today's defaults per probe: (initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold).
READINESS = (5, 5, 3, 3)
LIVENESS_JVM, LIVENESS = (30, 10, 3, 3), (60, 10, 3, 3)  # JVM services have a startup probe in front
STARTUP = (None, 10, 3, 30)  # up to 5 minutes to start before liveness may kill it


def _probe(service: Service, given: Probe, defaults: tuple[int | None, int, int, int]) -> dict:
    port: int | str = given.port or "http"
    path = given.path or (service.health_path if service.app_type == "http" else None)
    out: dict = {"httpGet": {"path": path, "port": port}} if path else {"tcpSocket": {"port": port}}
    delay, period, timeout, threshold = defaults
    for key, value in (("initialDelaySeconds", given.initial_delay if given.initial_delay is not None else delay),
                       ("periodSeconds", given.period or period), ("timeoutSeconds", given.timeout or timeout),
                       ("failureThreshold", given.threshold or threshold)):
        if value is not None:
            out[key] = value
    return out


def probes(service: Service) -> dict:
    """Readiness, liveness and (JVM, or when the catalog asks) startup probes, catalog values over defaults."""
    jvm = service.language in JVM_LANGUAGES
    given = service.probes
    out = {"readinessProbe": _probe(service, given.readiness, READINESS),
           "livenessProbe": _probe(service, given.liveness, LIVENESS_JVM if jvm else LIVENESS)}
    startup = given.startup if given.startup is not None else (Probe() if jvm else False)
    if startup is not False:
        out["startupProbe"] = _probe(service, startup, STARTUP)
    return out


def _env_var(name: str, value: str | ValueRef) -> dict:
    if isinstance(value, str):
        return {"name": name, "value": value}
    if value.configmap:
        return {"name": name, "valueFrom": {"configMapKeyRef": {"name": value.configmap, "key": value.key}}}
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": value.secret, "key": value.key}}}


def _volume_names(config: Config) -> dict[str, str]:
    """ConfigMap → the pod volume that mounts it (config-0, config-1, ... in name order)."""
    return {cm: f"config-{i}" for i, cm in enumerate(sorted({f.configmap for f in config.files.values()}))}


def config_checksum(config: Config, values: dict[tuple[str, str], str]) -> str:
    """A digest of the configuration an environment runs with: its variables and references, the files'
    paths, and the values of the ConfigMap keys it reads (`values`, read at deploy time). Secrets are
    named, never read: rotating a Secret's value does not change it."""
    described = {"env": {k: v if isinstance(v, str) else v.source for k, v in config.env.items()},
                 "files": {path: f"{f.configmap}:{f.key}" for path, f in config.files.items()},
                 "configmaps": [[cm, key, values.get((cm, key))] for cm, key in config.configmaps]}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def _spread(target: Target, track: str) -> list[dict]:
    if target.service.zone_spread == "none":
        return []
    return [{"maxSkew": 1, "topologyKey": ZONE_LABEL,
             "whenUnsatisfiable": "DoNotSchedule" if target.service.zone_spread == "required" else "ScheduleAnyway",
             "labelSelector": {"matchLabels": {"app": target.name, "track": track}}}]


def labels(target: Target, track: str, image: str | None = None) -> dict[str, str]:
    out = {"app": target.name, "team": target.service.team, "track": track,
           "app.kubernetes.io/managed-by": "dockyard"}
    if image:
        out["version"] = version_of(image)
    return out


def deployment(target: Target, image: str, *, track: str = "stable", replicas: int | None = None,
               change_cause: str = "", deployed_by: str = "", deployed_at: str = "",
               extra_annotations: dict[str, str] | None = None, config_checksum: str | None = None) -> dict:
    """The Deployment of one track (stable, canary or preview) of a service.

    `config_checksum` (see config_checksum()) goes on the pod template, so a change of configuration
    alone makes a new ReplicaSet."""
    name = workload_name(target.name, track)
    pod_labels = labels(target, track, image)
    selector = {"app": target.name, "track": track}
    annotations = {"kubernetes.io/change-cause": change_cause, "dockyard.dev/deployed-by": deployed_by,
                   "dockyard.dev/deployed-at": deployed_at, **(extra_annotations or {})}
    config, svc = target.config, target.service
    volumes = _volume_names(config)
    container = {
        "name": target.name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": svc.port, "protocol": "TCP"}],
        "env": [{"name": "DOCKYARD_SERVICE", "value": target.name},
                {"name": "DOCKYARD_ENV", "value": target.env_name},
                *(_env_var(name, value) for name, value in config.env.items())],
        "resources": resources(target.env.resources, target.overcommit, target.memory_overcommit),
        **probes(svc),
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", svc.lifecycle.pre_stop]}}},
    }
    if config.files:
        container["volumeMounts"] = [{"name": volumes[f.configmap], "mountPath": path, "subPath": f.key,
                                      "readOnly": True} for path, f in config.files.items()]
    template_meta: dict = {"labels": pod_labels}
    if config_checksum:
        template_meta["annotations"] = {CONFIG_CHECKSUM: config_checksum}
    pod: dict = {
        "containers": [container],
        "terminationGracePeriodSeconds": svc.lifecycle.termination_grace,
        "nodeSelector": {NODE_CLASS_LABEL: target.env.node_class},
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100, "podAffinityTerm": {
                "topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": {"app": target.name, "track": track}}}}]}},
    }
    if volumes:
        pod["volumes"] = [{"name": volume, "configMap": {"name": cm}} for cm, volume in volumes.items()]
    if svc.dns_options:
        pod["dnsConfig"] = {"options": [{"name": k} if v is None else {"name": k, "value": str(v)}
                                        for k, v in svc.dns_options.items()]}
    if svc.zone_spread != "none":
        pod["topologySpreadConstraints"] = _spread(target, track)
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
            "template": {"metadata": template_meta, "spec": pod},
        },
    }


def service(target: Target, track: str, all_tracks: bool = False) -> dict:
    """A Service for one track; with all_tracks it selects every pod of the app (replica-ratio canaries).

    The stable Service has the catalog's service_type; the canary's and preview's stay inside the cluster."""
    selector = {"app": target.name} if all_tracks else {"app": target.name, "track": track}
    spec: dict = {"selector": selector,
                  "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
    if track == "stable" and target.service.service_type != "ClusterIP":
        spec["type"] = target.service.service_type
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": workload_name(target.name, track), "namespace": target.namespace,
                     "labels": labels(target, track)},
        "spec": spec,
    }


def pod_disruption_budget(target: Target) -> dict:
    """Voluntary evictions (node drains) keep at least min_ready pods of the stable track."""
    return {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": labels(target, "stable")},
        "spec": {"minAvailable": min(target.env.min_ready, max(target.env.replicas - 1, 0)),
                 "selector": {"matchLabels": {"app": target.name, "track": "stable"}}},
    }


def _metric(metric: Metric) -> dict:
    """A Pods or External metric kept at an average value per pod (replicas = sum ÷ target)."""
    kind = "Pods" if metric.type == "pods" else "External"
    about: dict = {"name": metric.name}
    if metric.selector:
        about["selector"] = {"matchLabels": dict(metric.selector)}
    return {"type": kind, kind.lower(): {"metric": about,
                                         "target": {"type": "AverageValue", "averageValue": metric.target}}}


def autoscaler(target: Target, min_replicas: int, max_replicas: int, cpu_percent: int | None,
               metrics: tuple[Metric, ...] | list[Metric] = (), annotations: dict[str, str] | None = None) -> dict:
    """An autoscaling/v2 HPA on the stable Deployment: CPU utilisation and/or custom metrics."""
    specs = [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": cpu_percent}}}] if cpu_percent else []
    meta: dict = {"name": target.name, "namespace": target.namespace, "labels": labels(target, "stable")}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta,
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target.name},
                 "minReplicas": min_replicas, "maxReplicas": max_replicas,
                 "metrics": specs + [_metric(m) for m in metrics]},
    }


def catalog_autoscaler(target: Target, annotations: dict[str, str] | None = None) -> dict | None:
    """The HPA the catalog describes for this environment, or None."""
    spec: Autoscale | None = target.env.autoscale
    if spec is None:
        return None
    return autoscaler(target, spec.min, spec.max, spec.cpu_target, spec.metrics, annotations)


# What only a serving pod needs; a scheduled run's pod is the Deployment's pod without them.
SERVING_ONLY = ("ports", "readinessProbe", "livenessProbe", "startupProbe", "lifecycle")
CRON_TIME_ZONE = "Etc/UTC"  # schedules mean UTC whatever the controller-manager's local time


def cron_job(target: Target, image: str, *, change_cause: str = "", deployed_by: str = "", deployed_at: str = "",
             config_checksum: str | None = None) -> dict:
    """The CronJob of a `kind: cronjob` service: each run is a Job whose pod is the stable pod minus serving.

    A run is one attempt (backoffLimit 0, restartPolicy Never): a failure is reported at once as an
    incident and the next scheduled run is the retry, instead of retries that overlap the next run.
    """
    svc = target.service
    template = deployment(target, image, change_cause=change_cause, deployed_by=deployed_by,
                          deployed_at=deployed_at, config_checksum=config_checksum)["spec"]["template"]
    pod = template["spec"]
    pod["containers"] = [{k: v for k, v in c.items() if k not in SERVING_ONLY} for c in pod["containers"]]
    pod.pop("affinity", None)
    pod.pop("topologySpreadConstraints", None)
    pod["restartPolicy"] = "Never"
    annotations = {"kubernetes.io/change-cause": change_cause, "dockyard.dev/deployed-by": deployed_by,
                   "dockyard.dev/deployed-at": deployed_at}
    spec: dict = {"schedule": svc.schedule, "timeZone": CRON_TIME_ZONE, "concurrencyPolicy": svc.concurrency_policy,
                  "successfulJobsHistoryLimit": svc.successful_jobs_history_limit,
                  "failedJobsHistoryLimit": svc.failed_jobs_history_limit,
                  "jobTemplate": {"metadata": {"labels": labels(target, "stable", image)},
                                  "spec": {"backoffLimit": 0, "template": template}}}
    if svc.starting_deadline_seconds is not None:
        spec["startingDeadlineSeconds"] = svc.starting_deadline_seconds
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": labels(target, "stable"),
                     "annotations": {k: v for k, v in annotations.items() if v}},
        "spec": spec,
    }
