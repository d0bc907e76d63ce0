"""The watcher: Pods, Events, EndpointSlices and Jobs in the catalog's namespaces become findings on a queue.

One thread per (kind, namespace). The last resourceVersion of each is kept
in Redis, so a restarted watcher resumes where it stopped; a 410 Gone means
relist (findings carry occurrence keys, so nothing is told twice); bookmarks
keep the version fresh; a lost apiserver is retried with backoff. Only the
leader (a Redis lock renewed every few seconds) watches, so two replicas
give one message.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import replace

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from redis.exceptions import RedisError
from urllib3.exceptions import HTTPError

from core.runtime import Runtime
from deploy import clusters
from jobs import incidents, promotion
from jobs.queues import enqueue
from watcher import detect
from watcher.clusters import ClusterHealth

log = logging.getLogger("dockyard.watcher")
LEADER_KEY = "dockyard:watcher:leader"
LEADER_TTL_MS = 6000
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
KINDS = ("pods", "events", "endpointslices", "jobs")
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"  # set on a Job's pods by the Job controller


class Watcher:
    """Watches one cluster (the catalog's, by name; `default` is KUBECONFIG's). Leadership is per cluster."""

    def __init__(self, rt: Runtime, quiet_seconds: float = 300, sweep_every: float = 5, cluster: str | None = None):
        self.rt = rt
        self.cluster = cluster or rt.rules.catalog.cluster_names[0]
        self.kube = clusters.kube_for(rt, self.cluster)
        # Named clusters keep their own resourceVersions, endpoint states and leader; the one KUBECONFIG
        # cluster keeps the keys it always had, so an upgrade resumes its watches.
        self.suffix = f":{self.cluster}" if rt.rules.catalog.clusters else ""
        self.label = self.cluster if len(rt.rules.catalog.cluster_names) > 1 else ""  # named in incidents
        self.identity = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stop = threading.Event()
        self.leader = threading.Event()
        self.quiet_seconds, self.sweep_every = quiet_seconds, sweep_every
        self.owners: dict[str, list[tuple[str, str]]] = {}  # namespace -> [(service, env)] placed on this cluster
        for name, svc in rt.rules.catalog.services.items():
            for env_name, env in svc.environments.items():
                if self.cluster in rt.rules.catalog.placement(name, env_name):
                    self.owners.setdefault(env.namespace, []).append((name, env_name))
        self.threads: list[threading.Thread] = []

    # --- leadership ---------------------------------------------------------------------------

    def _lead(self) -> None:
        redis = self.rt.redis
        while not self.stop.is_set():
            try:
                held = redis.eval(RENEW, 1, LEADER_KEY + self.suffix, self.identity, LEADER_TTL_MS) or \
                    redis.set(LEADER_KEY + self.suffix, self.identity, nx=True, px=LEADER_TTL_MS)
            except Exception:  # Redis away: stop acting until it is back
                held = False
            (self.leader.set if held else self.leader.clear)()
            self.stop.wait(LEADER_TTL_MS / 3000)
        if self.leader.is_set():
            redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
                       "return 0", 1, LEADER_KEY + self.suffix, self.identity)

    # --- mapping objects to services ---------------------------------------------------------

    def _owner(self, namespace: str, name: str, app: str | None = None) -> tuple[str, str] | None:
        """The (service, env) a pod belongs to: its app label, else the longest service-name prefix."""
        candidates = self.owners.get(namespace, [])
        if app:
            return next(((s, e) for s, e in candidates if s == app), None)
        matches = [(s, e) for s, e in candidates if name == s or name.startswith(f"{s}-")]
        return max(matches, key=lambda se: len(se[0]), default=None)

    def _enqueue(self, finding: detect.Finding) -> None:
        finding = replace(finding, cluster=self.label)
        enqueue(self.rt.redis, self.rt.settings, "notify", "jobs.incidents.record", "health", finding=finding.to_dict())

    # --- per-kind handling -------------------------------------------------------------------

    def _pod(self, namespace: str, pod: dict) -> None:
        owner = self._owner(namespace, pod["metadata"]["name"], (pod["metadata"].get("labels") or {}).get("app"))
        if owner:
            for finding in detect.from_pod(pod, *owner):
                self._enqueue(finding)

    def _event(self, namespace: str, event: dict) -> None:
        owner = self._owner(namespace, (event.get("involvedObject") or {}).get("name", ""))
        if owner is None:
            return
        if detect.keeps(event, self.rt.rules.catalog.services[owner[0]].events):
            kept = detect.kept_event(event, owner[1], cluster=self.label)
            seen = f"dockyard:health:event-kept:{kept['uid']}:{kept['count']}"
            if self.rt.redis.set(seen, "1", nx=True, ex=incidents.EVENTS_RETENTION):
                incidents.keep_event(owner[0], kept)
        finding = detect.from_event(event, *owner)
        if finding:
            self._enqueue(finding)

    def _slice(self, namespace: str, obj: dict) -> None:
        service = (obj["metadata"].get("labels") or {}).get("kubernetes.io/service-name", "")
        owner = next(((s, e) for s, e in self.owners.get(namespace, []) if s == service), None)
        if owner is None:
            return

        slices = client.DiscoveryV1Api(self.kube.api).list_namespaced_endpoint_slice(
            namespace, label_selector=f"kubernetes.io/service-name={service}").items
        ready = sum(1 for s in slices for e in s.endpoints or [] if e.conditions and e.conditions.ready)
        minimum = self.rt.rules.catalog.services[service].environments[owner[1]].min_ready
        state = detect.endpoint_state(ready, minimum)
        key = f"dockyard:endpoints:{service}:{owner[1]}{self.suffix}"
        previous = self.rt.redis.getset(key, state)
        previous = previous.decode() if previous else None
        if previous is None or previous == state:
            return  # first sight (a service still starting is not an outage), or no change
        if state == "ok":
            self._enqueue(detect.Finding(service=service, env=owner[1], reason="EndpointLoss", resolved=True,
                                           key=f"endpoints:{service}:{owner[1]}:ok:{time.time_ns()}"))
        else:
            self._enqueue(detect.Finding(
                service=service, env=owner[1], reason="EndpointLoss", severity=state,
                key=f"endpoints:{service}:{owner[1]}:{state}:{time.time_ns()}",
                detail=f"{ready} ready endpoint(s), the minimum is {minimum}"))

    def _job(self, namespace: str, job: dict) -> None:
        """A run of a scheduled job: failed is an incident; succeeded resolves it and lets the image go further."""
        meta = job["metadata"]
        owner = self._owner(namespace, meta["name"], (meta.get("labels") or {}).get("app"))
        if owner is None or self.rt.rules.catalog.services[owner[0]].kind != "cronjob":
            return
        ended = {c.get("type") for c in (job.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}
        pods: list[dict] = []
        if "Failed" in ended:  # which pod, node and exit code, for the message
            listed = self.kube.core.list_namespaced_pod(namespace, label_selector=f"{JOB_NAME_LABEL}={meta['name']}")
            pods = self.kube.api.sanitize_for_serialization(listed).get("items", [])
        finding = detect.from_job(job, pods, *owner)
        if finding is None:
            return
        if finding.resolved:
            image = job["spec"]["template"]["spec"]["containers"][0]["image"]
            promotion.passed(owner[0], owner[1], image)  # a run of it succeeded: the next environment may take it
        self._enqueue(finding)

    # --- the watch loop ----------------------------------------------------------------------

    def _list(self, kind: str, namespace: str):

        if kind == "pods":
            return self.kube.core.list_namespaced_pod
        if kind == "events":
            return self.kube.core.list_namespaced_event
        if kind == "jobs":
            return self.kube.batch.list_namespaced_job
        return client.DiscoveryV1Api(self.kube.api).list_namespaced_endpoint_slice

    def _handle(self, kind: str, namespace: str, obj: dict) -> None:
        handlers = {"pods": self._pod, "events": self._event, "endpointslices": self._slice, "jobs": self._job}
        handlers[kind](namespace, obj)

    def _relist(self, kind: str, namespace: str) -> str:
        listed = self.kube.api.sanitize_for_serialization(self._list(kind, namespace)(namespace))
        for item in listed.get("items", []):
            self._handle(kind, namespace, item)
        return listed["metadata"]["resourceVersion"]

    def _watch(self, kind: str, namespace: str) -> None:
        rv_key = f"dockyard:watch:{kind}:{namespace}{self.suffix}"
        backoff = 0.5
        while not self.stop.is_set():
            if not self.leader.wait(1):
                continue
            try:
                raw = self.rt.redis.get(rv_key)
                version = raw.decode() if raw else self._relist(kind, namespace)
                self.rt.redis.set(rv_key, version)
                stream = watch.Watch().stream(self._list(kind, namespace), namespace, resource_version=version,
                                              allow_watch_bookmarks=True, timeout_seconds=5)
                for event in stream:
                    obj = self.kube.api.sanitize_for_serialization(event["object"])
                    version = (obj.get("metadata") or {}).get("resourceVersion") or version
                    if event["type"] != "BOOKMARK" and event["type"] != "DELETED":
                        self._handle(kind, namespace, obj)
                    self.rt.redis.set(rv_key, version)
                    if self.stop.is_set() or not self.leader.is_set():
                        break
                backoff = 0.5
            except ApiException as exc:
                if exc.status == 410:  # too old: relist, and the occurrence keys keep it quiet
                    log.info("%s in %s: resourceVersion expired, relisting", kind, namespace)
                    self.rt.redis.delete(rv_key)
                    continue
                log.warning("watching %s in %s: %s %s; retrying in %.1fs", kind, namespace, exc.status, exc.reason,
                            backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10)
            except (HTTPError, OSError, ValueError, RedisError) as exc:
                # RedisError too: a Redis restart or failover mid-watch must not end this watch's thread for good
                log.warning("watching %s in %s: %s; retrying in %.1fs", kind, namespace, exc.__class__.__name__,
                            backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10)

    def _sweep(self) -> None:
        while not self.stop.wait(self.sweep_every):
            if self.leader.is_set():
                try:
                    incidents.sweep(self.quiet_seconds)
                except Exception:  # a sink or the cluster away: next round
                    log.exception("health sweep failed")

    def start(self) -> "Watcher":
        targets = [self._lead, self._sweep] + [
            (lambda k=kind, n=ns: self._watch(k, n)) for ns in self.owners for kind in KINDS]
        self.threads = [threading.Thread(target=t, daemon=True) for t in targets]
        for thread in self.threads:
            thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)


class Fleet:
    """One Watcher per cluster of the catalog, and the clusters' own health checks (while the first leads)."""

    def __init__(self, rt: Runtime, quiet_seconds: float = 300, health_every: float = 5.0):
        self.watchers = [Watcher(rt, quiet_seconds, cluster=name) for name in rt.rules.catalog.cluster_names]
        first = self.watchers[0]
        self.health = ClusterHealth(rt, first.leader, first.stop, every=health_every)
        self.thread = threading.Thread(target=self.health.run, daemon=True)

    def start(self) -> "Fleet":
        for watcher in self.watchers:
            watcher.start()
        self.thread.start()
        return self

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.close()
        self.thread.join(15)

