"""Read-only views of what runs in the cluster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from deploy.kube import Kube
from deploy.render import CONFIG_CHECKSUM

REVISION = "deployment.kubernetes.io/revision"


def _absent(exc: ApiException) -> bool:
    return exc.status == 404


def read_deployment(kube: Kube, namespace: str, name: str) -> client.V1Deployment | None:
    try:
        return kube.apps.read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if _absent(exc):
            return None
        raise


def image_of(dep: client.V1Deployment) -> str:
    return dep.spec.template.spec.containers[0].image


def deployment_summary(apps: client.AppsV1Api, namespace: str, name: str) -> dict | None:
    """Desired/ready/updated replicas and image of a Deployment, or None if absent."""
    try:
        dep = apps.read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if _absent(exc):
            return None
        raise
    status = dep.status
    return {
        "desired": dep.spec.replicas or 0,
        "ready": status.ready_replicas or 0,
        "updated": status.updated_replicas or 0,
        "available": status.available_replicas or 0,
        "image": image_of(dep),
        "generation": dep.metadata.generation,
        "annotations": dict(dep.metadata.annotations or {}),
        "config": (dep.spec.template.metadata.annotations or {}).get(CONFIG_CHECKSUM),
    }


def read_configmap(kube: Kube, namespace: str, name: str) -> client.V1ConfigMap | None:
    try:
        return kube.core.read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if _absent(exc):
            return None
        raise


def configmap_values(kube: Kube, namespace: str, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """(ConfigMap, key) → the key's value (binaryData as its base64 text), None when the map or key is missing."""
    maps = {name: read_configmap(kube, namespace, name) for name in sorted({name for name, _ in wanted})}
    out: dict[tuple[str, str], str | None] = {}
    for name, key in wanted:
        cm = maps[name]
        data = {**(cm.binary_data or {}), **(cm.data or {})} if cm is not None else {}
        out[(name, key)] = data.get(key)
    return out


def read_autoscaler(kube: Kube, namespace: str, name: str) -> client.V2HorizontalPodAutoscaler | None:
    try:
        return kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, namespace)
    except ApiException as exc:
        if _absent(exc):
            return None
        raise


def autoscaler_summary(kube: Kube, namespace: str, name: str) -> dict | None:
    """Bounds, current and desired replicas and annotations of the service's HPA, or None."""
    hpa = read_autoscaler(kube, namespace, name)
    if hpa is None:
        return None
    status = hpa.status
    return {"min": hpa.spec.min_replicas or 1, "max": hpa.spec.max_replicas,
            "current": status.current_replicas if status else None,
            "desired": status.desired_replicas if status else None,
            "annotations": dict(hpa.metadata.annotations or {})}


@dataclass(frozen=True)
class Revision:
    """One entry of a Deployment's rollout history (a ReplicaSet)."""

    number: int
    image: str
    who: str
    when: str
    cause: str
    replicas: int


def history(kube: Kube, namespace: str, name: str) -> list[Revision]:
    """The Deployment's revisions, oldest first, from the ReplicaSets it owns."""
    dep = read_deployment(kube, namespace, name)
    if dep is None:
        return []
    selector = ",".join(f"{k}={v}" for k, v in dep.spec.selector.match_labels.items())
    out = []
    for rs in kube.apps.list_namespaced_replica_set(namespace, label_selector=selector).items:
        owners = rs.metadata.owner_references or []
        if not any(o.uid == dep.metadata.uid for o in owners):
            continue
        notes = rs.metadata.annotations or {}
        if REVISION not in notes:
            continue
        out.append(Revision(int(notes[REVISION]), rs.spec.template.spec.containers[0].image,
                            notes.get("dockyard.dev/deployed-by", ""), notes.get("dockyard.dev/deployed-at", ""),
                            notes.get("kubernetes.io/change-cause", ""), rs.status.replicas or 0))
    return sorted(out, key=lambda r: r.number)


def pods(kube: Kube, namespace: str, selector: dict[str, str]) -> list[client.V1Pod]:
    query = ",".join(f"{k}={v}" for k, v in selector.items())
    return kube.core.list_namespaced_pod(namespace, label_selector=query).items


def is_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def warnings(kube: Kube, namespace: str, names: set[str] | None = None, limit: int = 5) -> list[client.CoreV1Event]:
    """Recent Warning events in a namespace (for the given object names), newest last."""
    events = kube.core.list_namespaced_event(namespace, field_selector="type=Warning").items
    if names is not None:
        events = [e for e in events if e.involved_object.name in names]
    stamp = lambda e: e.last_timestamp or e.event_time or e.metadata.creation_timestamp  # noqa: E731
    return sorted(events, key=stamp)[-limit:]


def not_ready_report(kube: Kube, namespace: str, selector: dict[str, str], limit: int = 5) -> list[str]:
    """'pod: reason — last event' for each pod that is not ready."""
    lines = []
    for pod in pods(kube, namespace, selector):
        if is_ready(pod):
            continue
        reason = ""
        for status in pod.status.container_statuses or []:
            if status.state and status.state.waiting:
                reason = status.state.waiting.reason or ""
        if not reason:
            for cond in pod.status.conditions or []:
                if cond.type in ("Ready", "PodScheduled") and cond.status == "False":
                    reason = cond.reason or f"{cond.type} false"
        last = warnings(kube, namespace, {pod.metadata.name}, limit=1)
        event = f" — {last[-1].reason}: {last[-1].message}" if last else ""
        lines.append(f"{pod.metadata.name}: {reason or pod.status.phase}{event}")
    return lines[:limit]


def _iso(stamp: datetime | None) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else ""


def pod_summary(pod: client.V1Pod) -> dict:
    """What an operator looks at for one pod: node, IP, image, ready, restarts, when it started, its track."""
    statuses = pod.status.container_statuses or []
    return {"name": pod.metadata.name, "track": (pod.metadata.labels or {}).get("track", ""),
            "node": pod.spec.node_name or "", "ip": pod.status.pod_ip or "",
            "image": pod.spec.containers[0].image, "ready": is_ready(pod), "phase": pod.status.phase or "",
            "restarts": sum(s.restart_count or 0 for s in statuses),
            "started": _iso(pod.status.start_time or pod.metadata.creation_timestamp)}


def read_cron_job(kube: Kube, namespace: str, name: str) -> client.V1CronJob | None:
    try:
        return kube.batch.read_namespaced_cron_job(name, namespace)
    except ApiException as exc:
        if _absent(exc):
            return None
        raise


def _run_summary(job: client.V1Job) -> dict:
    conditions = {c.type: c for c in job.status.conditions or [] if c.status == "True"}
    failed = conditions.get("Failed")
    outcome = "succeeded" if "Complete" in conditions else "failed" if failed else "running"
    return {"name": job.metadata.name, "image": job.spec.template.spec.containers[0].image,
            "started": _iso(job.status.start_time or job.metadata.creation_timestamp),
            "finished": _iso(job.status.completion_time or (failed.last_transition_time if failed else None)),
            "outcome": outcome, "reason": (failed.reason or "") if failed else ""}


def cron_job_summary(kube: Kube, namespace: str, name: str) -> dict | None:
    """A CronJob's schedule, image and state, with the runs (Jobs) it owns, newest last; None if absent."""
    cron = read_cron_job(kube, namespace, name)
    if cron is None:
        return None
    jobs = kube.batch.list_namespaced_job(namespace, label_selector=f"app={name}").items
    owned = [j for j in jobs if any(o.uid == cron.metadata.uid for o in j.metadata.owner_references or [])]
    runs = sorted((_run_summary(j) for j in owned), key=lambda r: (r["started"], r["name"]))
    return {"schedule": cron.spec.schedule, "time_zone": cron.spec.time_zone or "",
            "suspended": bool(cron.spec.suspend), "concurrency": cron.spec.concurrency_policy or "Allow",
            "image": cron.spec.job_template.spec.template.spec.containers[0].image,
            "last_scheduled": _iso(cron.status.last_schedule_time if cron.status else None),
            "annotations": dict(cron.metadata.annotations or {}), "runs": runs}


def last_crash(pod: client.V1Pod, container: str) -> dict | None:
    """How the container before the running one ended (reason, exit code, when, restarts); None if it never ended."""
    for status in pod.status.container_statuses or []:
        if status.name != container:
            continue
        ended = status.last_state.terminated if status.last_state else None
        if ended is None and not status.restart_count:
            return None
        return {"reason": (ended.reason or "") if ended else "", "exit_code": ended.exit_code if ended else None,
                "finished": _iso(ended.finished_at) if ended else "", "restarts": status.restart_count or 0}
    return None
