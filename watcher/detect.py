"""Kubernetes objects → findings: what the watcher saw, decided here and reported by jobs.incidents. Pure."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

POD_REASONS = ("OOMKilled", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "Evicted")
EVENT_REASONS = {"Unhealthy": "ProbeFailed", "FailedScheduling": "FailedScheduling", "FailedMount": "FailedMount"}
# The kubelet's FailedMount messages name the volume one of two ways (MountVolume.SetUp failed for volume
# "config-0" : ...; Unable to attach or mount volumes: unmounted volumes=[data], ...).
_VOLUME = re.compile(r'for volume "([^"]+)"|unmounted volumes=\[([^\]]*)\]')


@dataclass(frozen=True)
class Finding:
    """One observation; `key` is unique per occurrence so a relist or a restart never counts it twice."""

    service: str
    env: str
    reason: str  # OOMKilled, CrashLoopBackOff, ImagePullBackOff, Evicted, ProbeFailed, FailedScheduling,
    #              FailedMount, EndpointLoss, JobFailed
    key: str
    pod: str = ""
    node_ip: str = ""
    container: str = ""
    exit_code: int | None = None
    restarts: int = 0
    detail: str = ""
    severity: str = "warning"
    resolved: bool = False
    at: str = ""
    run: str = ""  # a scheduled job's run (Job name)
    cluster: str = ""  # the cluster it was seen on, when the catalog has several

    def to_dict(self) -> dict:
        return asdict(self)


def _evicted(pod: dict, service: str, env: str) -> Finding | None:
    """The kubelet evicted the pod (node pressure): phase Failed, reason Evicted, and its message says why."""
    meta, status = pod.get("metadata", {}), pod.get("status") or {}
    if status.get("reason") != "Evicted":
        return None
    # When: the DisruptionTarget condition the kubelet sets as it evicts, where the cluster has it.
    at = next((c.get("lastTransitionTime") or "" for c in status.get("conditions") or []
               if c.get("type") == "DisruptionTarget"), "")
    return Finding(service=service, env=env, reason="Evicted", key=f"{meta.get('uid')}:evicted",
                   pod=meta.get("name", ""), node_ip=status.get("hostIP", ""), at=at,
                   detail=status.get("message") or "the kubelet evicted the pod")


def from_pod(pod: dict, service: str, env: str) -> list[Finding]:
    """OOMKilled, CrashLoopBackOff and image pull failures in a pod's container statuses; an evicted pod."""
    meta, status = pod.get("metadata", {}), pod.get("status", {})
    evicted = _evicted(pod, service, env)
    out = [evicted] if evicted else []
    for cs in status.get("containerStatuses") or []:
        restarts = cs.get("restartCount") or 0
        last = (cs.get("lastState") or {}).get("terminated") or {}
        waiting = (cs.get("state") or {}).get("waiting") or {}
        common = dict(service=service, env=env, pod=meta.get("name", ""), node_ip=status.get("hostIP", ""),
                      container=cs.get("name", ""), restarts=restarts)
        if last.get("reason") == "OOMKilled":
            out.append(Finding(reason="OOMKilled", key=f"{meta.get('uid')}:{cs.get('name')}:oom:{restarts}",
                               exit_code=last.get("exitCode"), severity="critical", at=last.get("finishedAt", ""),
                               detail="the container used more memory than its limit", **common))
        elif waiting.get("reason") == "CrashLoopBackOff":
            out.append(Finding(reason="CrashLoopBackOff", key=f"{meta.get('uid')}:{cs.get('name')}:crash:{restarts}",
                               exit_code=last.get("exitCode"), severity="critical",
                               detail=waiting.get("message", ""), **common))
        elif waiting.get("reason") in ("ImagePullBackOff", "ErrImagePull"):
            out.append(Finding(reason="ImagePullBackOff", key=f"{meta.get('uid')}:{cs.get('name')}:pull",
                               detail=waiting.get("message", ""), **common))
    return out


def mount_detail(message: str) -> str:
    """'volume config-0 failed to mount: <the kubelet's message>' (the message alone if it names none)."""
    found = _VOLUME.search(message or "")
    volume = (found.group(1) or found.group(2)) if found else ""
    return f"volume {volume} failed to mount: {message}" if volume else message


def from_event(event: dict, service: str, env: str) -> Finding | None:
    """Failing probes, FailedScheduling and FailedMount from Warning events."""
    reason = EVENT_REASONS.get(event.get("reason", ""))
    if event.get("type") != "Warning" or reason is None:
        return None
    meta = event.get("metadata", {})
    message = event.get("message", "")
    return Finding(service=service, env=env, reason=reason, key=f"{meta.get('uid')}:{_count(event)}",
                   pod=(event.get("involvedObject") or {}).get("name", ""),
                   detail=mount_detail(message) if reason == "FailedMount" else message, at=_last_seen(event))


def _count(event: dict) -> int:
    """How often it happened: core/v1 `count`, or the events.k8s.io series a newer reporter keeps."""
    return event.get("count") or (event.get("series") or {}).get("count") or 1


def _last_seen(event: dict) -> str:
    return (event.get("lastTimestamp") or (event.get("series") or {}).get("lastObservedTime")
            or event.get("eventTime") or (event.get("metadata") or {}).get("creationTimestamp") or "")


def keeps(event: dict, levels: str) -> bool:
    """Is the event kept for /events: Warning always; Normal too where the service keeps `all`."""
    return event.get("type") == "Warning" or (levels == "all" and event.get("type") == "Normal")


def kept_event(event: dict, env: str, cluster: str = "") -> dict:
    """What /events shows of an event (the seed teams' columns): level, reason, message, object, reporter,
    source host, count and when it was last seen; `uid` lets a repeat replace its earlier count, and `rv` (the
    apiserver's resourceVersion) orders events last seen within the same second."""
    source, involved = event.get("source") or {}, event.get("involvedObject") or {}
    return {"uid": (event.get("metadata") or {}).get("uid", ""), "type": event.get("type") or "Normal",
            "reason": event.get("reason") or "", "message": event.get("message") or "",
            "object": involved.get("name") or "", "kind": involved.get("kind") or "",
            "reporter": source.get("component") or event.get("reportingComponent") or "",
            "host": source.get("host") or event.get("reportingInstance") or "",
            "count": _count(event), "at": _last_seen(event), "env": env,
            "rv": (event.get("metadata") or {}).get("resourceVersion", ""),
            **({"cluster": cluster} if cluster else {})}  # named where the catalog has several


def endpoint_state(ready: int, minimum: int) -> str:
    """ok, warning (below the service's minimum) or critical (no ready endpoint at all)."""
    if ready == 0:
        return "critical"
    return "warning" if ready < minimum else "ok"


def from_job(job: dict, pods: list[dict], service: str, env: str) -> Finding | None:
    """A scheduled job's run: failed is JobFailed; succeeded resolves it (a later run worked); else nothing.

    Only runs of a CronJob count (a Job it owns, scheduled or started by hand from its template)."""
    meta, status = job.get("metadata", {}), job.get("status") or {}
    if not any(o.get("kind") == "CronJob" for o in meta.get("ownerReferences") or []):
        return None
    done = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    name, uid = meta.get("name", ""), meta.get("uid")
    if "Complete" in done:
        return Finding(service=service, env=env, reason="JobFailed", key=f"{uid}:complete", resolved=True, run=name,
                       at=status.get("completionTime") or done["Complete"].get("lastTransitionTime") or "")
    if "Failed" not in done:
        return None
    failed = done["Failed"]
    common: dict = {}
    for pod in sorted(pods, key=lambda p: p.get("metadata", {}).get("name", "")):
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            ended = (cs.get("state") or {}).get("terminated") or {}
            if ended and ended.get("exitCode") != 0:
                common = dict(pod=pod["metadata"].get("name", ""), node_ip=pod["status"].get("hostIP", ""),
                              container=cs.get("name", ""), exit_code=ended.get("exitCode"))
    why = ": ".join(part for part in (failed.get("reason"), failed.get("message")) if part)
    return Finding(service=service, env=env, reason="JobFailed", key=f"{uid}:failed", run=name,
                   detail=f"run {name} failed" + (f" ({why})" if why else ""),
                   at=failed.get("lastTransitionTime") or "", **common)
