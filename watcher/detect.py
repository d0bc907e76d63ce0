"""Kubernetes objects → findings: what the watcher saw, decided here and reported by jobs.incidents. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass

POD_REASONS = ("OOMKilled", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull")
EVENT_REASONS = {"Unhealthy": "ProbeFailed", "FailedScheduling": "FailedScheduling"}


@dataclass(frozen=True)
class Finding:
    """One observation; `key` is unique per occurrence so a relist or a restart never counts it twice."""

    service: str
    env: str
    reason: str  # OOMKilled, CrashLoopBackOff, ImagePullBackOff, ProbeFailed, FailedScheduling, EndpointLoss, JobFailed
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


def from_pod(pod: dict, service: str, env: str) -> list[Finding]:
    """OOMKilled, CrashLoopBackOff and image pull failures in a pod's container statuses."""
    meta, status = pod.get("metadata", {}), pod.get("status", {})
    out = []
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


def from_event(event: dict, service: str, env: str) -> Finding | None:
    """Failing probes and FailedScheduling from Warning events."""
    reason = EVENT_REASONS.get(event.get("reason", ""))
    if event.get("type") != "Warning" or reason is None:
        return None
    meta = event.get("metadata", {})
    return Finding(service=service, env=env, reason=reason, key=f"{meta.get('uid')}:{event.get('count') or 1}",
                   pod=(event.get("involvedObject") or {}).get("name", ""), detail=event.get("message", ""),
                   at=event.get("lastTimestamp") or event.get("eventTime") or "")


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
