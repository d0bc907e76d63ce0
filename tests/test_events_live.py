"""Events on the real control plane: an evicted pod and a volume that fails to mount become incidents that
resolve when quiet; /events shows the controllers' Normal events for a service whose catalog keeps them."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import yaml

from core import runtime
from deploy import fetching
from deploy.kube import connect
from deploy.local.services import wait_until
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules
from watcher.loop import Watcher

NS = "shop-test"
SERVICES = {"hevict": {"replicas": 2}, "hmount": {"replicas": 1}, "hnorm": {"replicas": 1, "events": "all"}}


@pytest.fixture
def world(redis, redis_server, cluster, tmp_path):
    rules_dir = write_rules(tmp_path)
    catalog = yaml.safe_load((rules_dir / "catalog.yaml").read_text())
    for name, spec in SERVICES.items():
        catalog["services"][name] = {
            "team": "storefront", "language": "node", "git": f"shop/{name}", "port": 3000, "router": "replicas",
            **({"events": spec["events"]} if "events" in spec else {}),
            "environments": {"test": {"namespace": NS, "replicas": spec["replicas"], "resources": "0.5C1G",
                                      "progress_deadline": 6}}}
    (rules_dir / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, rules_dir, cluster.dockyard_kubeconfig))
    # The test acts as the cluster admin (the kubelet's part: status and events); Dockyard as itself.
    kube = connect(cluster.admin_kubeconfig)
    watchers: list[Watcher] = []
    deployed: list[str] = []
    chat = Chat(rt)

    def deploy(service: str) -> list:
        chat("alice", f"/deploy {service} v1")
        deployed.append(service)
        return fetching.pods(kube, NS, {"app": service})

    def watcher() -> Watcher:
        w = Watcher(rt, quiet_seconds=2, sweep_every=0.5).start()
        watchers.append(w)
        return w

    yield type("World", (), {"rt": rt, "kube": kube, "chat": chat, "deploy": staticmethod(deploy),
                             "watcher": staticmethod(watcher)})
    for w in watchers:
        w.close()
    for service in deployed:
        kube.apps.delete_namespaced_deployment(service, NS)
    runtime._current = previous


def about(rt, service: str, reason: str) -> list[dict]:
    """Health messages of one incident (its title names the service, environment and reason)."""
    return [m for m in feed(rt) if f"{service} (test): {reason}" in m["text"].splitlines()[0]]


def pump(rt, until, what: str, timeout: float = 30) -> None:
    def step() -> bool:
        DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
        return until()
    wait_until(step, timeout, what, interval=0.3)


def resolved(rt, service: str, reason: str) -> bool:
    return any(f"RESOLVED {service} (test): {reason}" in m["text"].splitlines()[0] for m in about(rt, service, reason))


def kubelet_event(kube, pod, type_: str, reason: str, message: str) -> None:
    """An event about the pod as the kubelet on its node reports it."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    kube.core.create_namespaced_event(NS, {
        "metadata": {"name": f"{pod.metadata.name}.{time.time_ns()}", "namespace": NS},
        "involvedObject": {"kind": "Pod", "name": pod.metadata.name, "namespace": NS, "uid": pod.metadata.uid},
        "type": type_, "reason": reason, "message": message, "count": 1, "firstTimestamp": now,
        "lastTimestamp": now, "source": {"component": "kubelet", "host": pod.spec.node_name}})


def test_an_evicted_pod_is_an_incident_that_resolves_when_its_replacement_is_ready(world):
    pods = world.deploy("hevict")
    world.watcher()
    victim = pods[0].metadata.name
    why = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi."
    world.kube.core.patch_namespaced_pod_status(victim, NS, {"status": {
        "phase": "Failed", "reason": "Evicted", "message": why}})
    pump(world.rt, lambda: about(world.rt, "hevict", "Evicted"), "the eviction's message")
    first = about(world.rt, "hevict", "Evicted")[0]
    assert victim in first["text"] and why in first["text"]
    assert pods[0].status.host_ip in first["text"]  # the node it was evicted from
    # The ReplicaSet replaces the pod; the evicted one stays (Failed) but is no instance any more.
    pump(world.rt, lambda: resolved(world.rt, "hevict", "Evicted"), "resolved once quiet and replaced")
    assert len({m["ref"] for m in about(world.rt, "hevict", "Evicted")}) == 1  # the same message, edited
    assert world.kube.core.read_namespaced_pod(victim, NS).status.reason == "Evicted"  # still there


def test_a_volume_that_fails_to_mount_is_an_incident_naming_the_volume(world):
    [pod] = world.deploy("hmount")
    world.watcher()
    kubelet_event(world.kube, pod, "Warning", "FailedMount",
                  'MountVolume.SetUp failed for volume "config-0" : configmap "hmount-config" not found')
    pump(world.rt, lambda: about(world.rt, "hmount", "FailedMount"), "the FailedMount message")
    text = about(world.rt, "hmount", "FailedMount")[0]["text"]
    assert "volume config-0 failed to mount" in text and 'configmap "hmount-config" not found' in text
    assert pod.metadata.name in text
    pump(world.rt, lambda: resolved(world.rt, "hmount", "FailedMount"), "resolved once quiet")
    [events] = world.chat("alice", "/events hmount --grep config-0")
    assert "Warning  FailedMount" in events["text"]
    assert f"(reported by kubelet on {pod.spec.node_name})" in events["text"]


def test_events_shows_normal_events_where_the_catalog_keeps_them(world):
    [pod] = world.deploy("hnorm")
    world.deploy("hevict")
    world.watcher()  # lists the events the rollouts left: the controllers' Normal ones among them
    kubelet_event(world.kube, pod, "Normal", "Pulled", 'Successfully pulled image "registry.local/shop/hnorm:v1"')

    def shown() -> str:
        return world.chat("alice", "/events hnorm --level normal")[0]["text"]

    pump(world.rt, lambda: "Pulled" in shown() and "ScalingReplicaSet" in shown(), "the Normal events kept")
    text = shown()
    assert "Normal  ScalingReplicaSet" in text and "(reported by deployment-controller)" in text
    assert f"Normal  Pulled  {pod.metadata.name} (test)" in text
    assert text.index("ScalingReplicaSet") < text.index("Pulled")  # by when they happened, newest last
    assert f"(reported by kubelet on {pod.spec.node_name})" in text
    assert not [line for line in text.splitlines() if "  Warning  " in line]  # only the level asked for
    # A service that keeps warnings only says so, and how to keep Normal ones.
    elsewhere = world.chat("alice", "/events hevict --level normal")[0]["text"]
    assert "no Normal events for hevict" in elsewhere and "set `events: all` on it in the catalog" in elsewhere
