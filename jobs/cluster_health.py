"""Cluster incidents: one message per cluster outage in the channels that take cluster alerts, edited when it ends."""

from __future__ import annotations

import json
import time

from bots import cluster_messages as say
from core import runtime
from jobs.notify import show
from rules import routing

INCIDENT_KEY = "dockyard:cluster-incident:{}"


def labels_of(cluster: str) -> dict[str, str]:
    """What routes a cluster incident: critical, kind cluster, the cluster's name and its catalog labels."""
    spec = runtime.get().rules.catalog.clusters.get(cluster)
    return {**(spec.labels if spec else {}), "cluster": cluster, "kind": "cluster", "severity": "critical",
            "alertname": "ClusterUnhealthy"}


def report(cluster: str, state: str, previous: str, detail: str) -> str:
    """RQ job: post the outage, edit it as it changes, mark it resolved when the cluster is healthy again."""
    rt = runtime.get()
    key = INCIDENT_KEY.format(cluster)
    raw = rt.redis.get(key)
    incident = json.loads(raw) if raw else None
    if state == "ok" and incident is None:
        return "nothing open"
    if incident is None:  # since: epoch seconds, dated in each channel's zone (an older record kept its text)
        incident = {"since": time.time(), "refs": {}}
    spec = rt.rules.catalog.clusters.get(cluster)
    targets, _ = routing.split_quiet(rt.rules, labels_of(cluster))  # critical: quiet hours let it through
    for target in targets:
        field = json.dumps(target, sort_keys=True)
        style = routing.style_of(rt.rules, rt.settings, target)
        message = say.cluster_incident(cluster, dict(spec.labels) if spec else {}, state, detail, incident["since"],
                                       style.locale, style.zone)
        incident["refs"][field] = show(target, message, incident["refs"].get(field))
    if state == "ok":
        rt.redis.delete(key)
        return "resolved"
    rt.redis.set(key, json.dumps(incident), ex=30 * 86400)
    return state
