"""Cluster incidents: one message per cluster outage in the channels that take cluster alerts, edited when it ends."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

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
    if incident is None:
        incident = {"since": datetime.now(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z"), "refs": {}}
    spec = rt.rules.catalog.clusters.get(cluster)
    message = say.cluster_incident(cluster, dict(spec.labels) if spec else {}, state, detail, incident["since"])
    targets, _ = routing.split_quiet(rt.rules, labels_of(cluster))  # critical: quiet hours let it through
    for target in targets:
        field = json.dumps(target, sort_keys=True)
        incident["refs"][field] = show(target, message, incident["refs"].get(field))
    if state == "ok":
        rt.redis.delete(key)
        return "resolved"
    rt.redis.set(key, json.dumps(incident), ex=30 * 86400)
    return state
