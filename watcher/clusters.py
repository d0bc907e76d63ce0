"""Each cluster's own health: does its API answer, are its nodes Ready. Changes become cluster incidents.

A probe that fails once is not an outage (a slow apiserver, a GC pause): a cluster is reported
down after FAILS_TO_REPORT probes in a row fail, and up again at the first that succeeds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from core.runtime import Runtime
from deploy import clusters
from jobs.queues import enqueue

log = logging.getLogger("dockyard.watcher.clusters")
FAILS_TO_REPORT = 2
STATE_KEY = "dockyard:cluster-health:{}"


@dataclass(frozen=True)
class Health:
    state: str  # "ok", "unreachable", "nodes-not-ready"
    detail: str = ""


def not_ready_nodes(nodes: list[dict]) -> list[str]:
    """Names of nodes whose Ready condition is not True (with the condition's reason). Pure."""
    out = []
    for node in nodes:
        ready = next((c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
        if ready is None or ready.get("status") != "True":
            reason = (ready or {}).get("reason") or "no Ready condition"
            out.append(f"{node['metadata']['name']} ({reason})")
    return out


def probe(rt: Runtime, name: str) -> Health:
    """One look at a cluster: its API, then its nodes."""
    try:
        kube = clusters.kube_for(rt, name)
    except clusters.ClusterUnreachable as exc:
        return Health("unreachable", str(exc))
    why = clusters.unreachable(kube)
    if why:
        return Health("unreachable", why)
    try:
        listed = kube.core.list_node(_request_timeout=clusters.PROBE_TIMEOUT)
    except ApiException as exc:
        return Health("unreachable", f"listing its nodes answered {exc.status} {exc.reason}")
    except (HTTPError, OSError) as exc:
        return Health("unreachable", f"its API stopped answering ({type(exc).__name__})")
    sick = not_ready_nodes(kube.api.sanitize_for_serialization(listed).get("items", []))
    return Health("nodes-not-ready", ", ".join(sick)) if sick else Health("ok")


class ClusterHealth:
    """Probe every cluster every `every` seconds while this watcher leads; report each change once."""

    def __init__(self, rt: Runtime, leader: threading.Event, stop: threading.Event, every: float = 5.0):
        self.rt, self.leader, self.stop, self.every = rt, leader, stop, every
        self.fails: dict[str, int] = {}

    def check(self, name: str) -> None:
        health = probe(self.rt, name)
        if health.state != "ok":
            self.fails[name] = self.fails.get(name, 0) + 1
            if self.fails[name] < FAILS_TO_REPORT:
                return
        else:
            self.fails[name] = 0
        key = STATE_KEY.format(name)
        previous = self.rt.redis.getset(key, health.state)
        previous = previous.decode() if previous else "ok"  # first sight of a healthy cluster says nothing
        if previous == health.state:
            return
        log.warning("cluster %s: %s → %s %s", name, previous, health.state, health.detail)
        enqueue(self.rt.redis, self.rt.settings, "notify", "jobs.cluster_health.report", "cluster-health",
                cluster=name, state=health.state, previous=previous, detail=health.detail)

    def run(self) -> None:
        while not self.stop.wait(self.every):
            if not self.leader.is_set():
                continue
            for name in self.rt.rules.catalog.cluster_names:
                try:
                    self.check(name)
                except Exception:  # Redis away, a bug in one probe: the next round tries again
                    log.exception("checking cluster %s failed", name)
