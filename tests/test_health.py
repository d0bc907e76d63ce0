"""The health watcher on the real cluster: OOMs, endpoint loss, restarts, 410, two replicas, apiserver restart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import runtime
from deploy import fetching
from deploy.kube import connect
from watcher.loop import Watcher
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules
from deploy.local.services import wait_until

NS = "shop-test"


@pytest.fixture
def world(redis, redis_server, cluster, tmp_path):
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, write_rules(tmp_path), cluster.dockyard_kubeconfig))
    # The test acts as the cluster admin (faults are injected by annotating pods, which Dockyard may not do);
    # Dockyard itself runs with its own identity through the runtime's kubeconfig.
    kube = connect(cluster.admin_kubeconfig)
    watchers: list[Watcher] = []
    deployed: list[str] = []

    def watcher() -> Watcher:
        w = Watcher(rt, quiet_seconds=2, sweep_every=0.5).start()
        watchers.append(w)
        return w

    chat = Chat(rt)

    def deploy(service: str) -> list:
        chat("alice", f"/deploy {service} v1")
        deployed.append(service)
        return fetching.pods(kube, NS, {"app": service})

    yield type("World", (), {"rt": rt, "kube": kube, "watcher": staticmethod(watcher), "chat": chat,
                             "deploy": staticmethod(deploy), "cluster": cluster})
    for w in watchers:
        w.close()
    for service in deployed:
        kube.apps.delete_namespaced_deployment(service, NS)
    runtime._current = previous


def about(rt, service: str, reason: str = "OOMKilled") -> list[dict]:
    """Health messages of one incident (not the deploy's own progress messages)."""
    return [m for m in feed(rt) if f"{service} (test): {reason}" in m["text"].splitlines()[0]]


def pump(rt, until, what: str, timeout: float = 20) -> None:
    def step() -> bool:
        DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
        return until()
    wait_until(step, timeout, what, interval=0.2)


def oom(kube, pod: str, interval: str = "1s") -> None:
    kube.core.patch_namespaced_pod(pod, NS, {"metadata": {"annotations": {
        "dockyard.dev/simulate": "oom", "dockyard.dev/simulate-interval": interval}}})


def heal(kube, pod: str) -> None:
    kube.core.patch_namespaced_pod(pod, NS, {"metadata": {"annotations": {"dockyard.dev/simulate": None}}})


def count_of(message: dict) -> int:
    match = re.search(r"OOMKilled ×(\d+)", message["text"])
    return int(match.group(1)) if match else 1


def restarts(kube, pod: str) -> int:
    return kube.core.read_namespaced_pod(pod, NS).status.container_statuses[0].restart_count


def test_oomkilled_gives_one_message_with_the_fields_then_updates_it(world):
    pods = world.deploy("hoom")
    world.watcher()
    oom(world.kube, pods[0].metadata.name, "1s")
    pump(world.rt, lambda: about(world.rt, "hoom"), "the OOM message", timeout=20)  # seen in ~1-2 s here
    first = about(world.rt, "hoom")[0]
    assert first["text"].startswith("✖ hoom (test): OOMKilled, 1/2 instances unhealthy")
    # The seed teams' order (seeds/004): app, project, unhealthy / total, node IP, container exit, time.
    for field in ("app                  hoom", "project              storefront", "unhealthy instances  1",
                  "total instances      2", f"pod                  {pods[0].metadata.name}",
                  "container            hoom", "container exit       ExitCode 137, reason OOMKilled",
                  "node IP              10.0.0.1"):
        assert field in first["text"], field
    assert "[Rollback]" in first["text"] and "[Restart]" in first["text"]
    pump(world.rt, lambda: any(count_of(m) >= 4 for m in about(world.rt, "hoom")), "three more OOMs", timeout=20)
    assert len({m["ref"] for m in about(world.rt, "hoom")}) == 1  # the same message, edited
    heal(world.kube, pods[0].metadata.name)
    pump(world.rt, lambda: any(m["text"].startswith("✔ RESOLVED hoom (test): OOMKilled")
                               for m in about(world.rt, "hoom")), "resolved after the quiet time")
    [events] = world.chat("alice", "/events hoom --since 1h")
    assert "BackOff" in events["text"] and "OOMKilled (exit code 137)" in events["text"]


def test_endpoint_loss_is_critical_then_resolved(world):
    pods = world.deploy("hep")
    world.watcher()
    pump(world.rt, lambda: world.rt.redis.get("dockyard:endpoints:hep:test") == b"ok", "endpoints seen healthy")
    for pod in pods:
        world.kube.core.patch_namespaced_pod(pod.metadata.name, NS, {"metadata": {"annotations": {
            "dockyard.dev/simulate": "unready"}}})
    pump(world.rt, lambda: about(world.rt, "hep", "EndpointLoss"), "endpoint loss")
    loss = about(world.rt, "hep", "EndpointLoss")[0]
    assert loss["message"]["severity"] == "critical" and "0 ready endpoint(s), the minimum is 1" in loss["text"]
    for pod in pods:
        heal(world.kube, pod.metadata.name)
    pump(world.rt, lambda: any(m["text"].startswith("✔ RESOLVED hep (test): EndpointLoss")
                               for m in about(world.rt, "hep", "EndpointLoss")), "endpoints back")
    assert len({m["ref"] for m in about(world.rt, "hep", "EndpointLoss") if "EndpointLoss" in m["text"]}) == 1


def test_restarted_watcher_misses_nothing_and_repeats_nothing_even_after_410(world):
    [pod] = world.deploy("hkill")
    name = pod.metadata.name
    first = world.watcher()
    oom(world.kube, name, "1s")
    pump(world.rt, lambda: about(world.rt, "hkill"), "the first OOM message")
    first.close()  # the watcher dies mid-incident; the pod keeps OOMing
    wait_until(lambda: restarts(world.kube, name) >= 4, 15, "OOMs while nobody watches")
    world.watcher()  # resumes from the resourceVersion kept in Redis
    heal(world.kube, name)
    pump(world.rt, lambda: restarts(world.kube, name) == max(count_of(m) for m in about(world.rt, "hkill")),
         "every OOM counted once")
    assert len({m["ref"] for m in about(world.rt, "hkill")}) == 1
    counted = max(count_of(m) for m in about(world.rt, "hkill"))
    world.rt.redis.set("dockyard:watch:pods:shop-test", "1")  # far too old: the apiserver answers 410
    world.watcher()
    pump(world.rt, lambda: world.rt.redis.get("dockyard:watch:pods:shop-test") not in (None, b"1"), "the relist")
    DockyardSimpleWorker(list(QUEUES), connection=world.rt.redis).work(burst=True)
    assert max(count_of(m) for m in about(world.rt, "hkill")) == counted
    assert len({m["ref"] for m in about(world.rt, "hkill")}) == 1


def test_two_watchers_give_one_message(world):
    [pod] = world.deploy("htwo")
    world.watcher()
    world.watcher()
    oom(world.kube, pod.metadata.name, "1s")
    pump(world.rt, lambda: any(count_of(m) >= 3 for m in about(world.rt, "htwo")), "three OOMs")
    assert len({m["ref"] for m in about(world.rt, "htwo")}) == 1
    heal(world.kube, pod.metadata.name)


def test_watcher_recovers_when_the_apiserver_restarts(world):
    [pod] = world.deploy("hapi")
    world.watcher()
    pump(world.rt, lambda: world.rt.redis.get("dockyard:watch:pods:shop-test") is not None, "watching")
    world.cluster.restart_apiserver()
    oom(world.kube, pod.metadata.name, "1s")
    pump(world.rt, lambda: about(world.rt, "hapi"), "an OOM after the restart", timeout=40)
    heal(world.kube, pod.metadata.name)


def test_a_storm_of_a_thousand_findings_gives_a_handful_of_messages(rt, work):
    from watcher.detect import Finding
    from jobs.queues import enqueue

    for i in range(1000):
        reason = ("OOMKilled", "CrashLoopBackOff", "ProbeFailed")[i % 3]
        finding = Finding(service="web", env="test", reason=reason, key=f"storm-{i}", pod=f"web-{i % 7}",
                          severity="critical")
        enqueue(rt.redis, rt.settings, "notify", "jobs.incidents.record", "health", finding=finding.to_dict())
    work()
    from jobs import incidents
    incidents.sweep(quiet_seconds=3600)  # flush the throttled edits
    messages = [m for m in feed(rt) if m["text"].splitlines()[0].startswith("✖ web (test):")]
    assert len({m["ref"] for m in messages}) == 3  # one per (service, env, reason)
    assert len(messages) < 100  # edits are throttled (one per incident every 2 s), not one per event
    finals = {m["ref"]: m["text"].splitlines()[0] for m in messages}
    assert sorted(re.search(r"×(\d+)", t).group(1) for t in finals.values()) == ["333", "333", "334"]


def test_restarts_no_watcher_saw_still_count_in_the_incident(rt, work):
    """A watcher down for three OOMs sees the restart count jump from 2 to 6: the incident says ×6 (web-1's),
    plus one for web-2, first seen at its third restart (what ended its earlier runs is not known)."""
    from watcher.detect import Finding
    from jobs import incidents
    from jobs.queues import enqueue

    for pod, restarts in (("web-1", 1), ("web-1", 2), ("web-1", 6), ("web-1", 6), ("web-2", 3)):
        enqueue(rt.redis, rt.settings, "notify", "jobs.incidents.record", "health", finding=Finding(
            service="web", env="test", reason="OOMKilled", key=f"{pod}:oom:{restarts}", pod=pod, container="web",
            restarts=restarts, severity="critical").to_dict())
    work()
    incidents.sweep(quiet_seconds=3600)
    last = [m for m in feed(rt) if m["text"].startswith("✖ web (test): OOMKilled")][-1]
    assert re.search(r"OOMKilled ×(\d+)", last["text"]).group(1) == "7", last["text"]


def test_silence_holds_a_services_health_messages_and_they_catch_up(rt, work):
    from watcher.detect import Finding
    from jobs import incidents
    from jobs.queues import enqueue
    from tests.rollout_fixtures import Chat

    [reply] = Chat(rt)("dave", "/silence web 1h")
    assert reply["text"].startswith("✔ health messages for web held until ")
    enqueue(rt.redis, rt.settings, "notify", "jobs.incidents.record", "health",
            finding=Finding(service="web", env="test", reason="OOMKilled", key="muted-1", pod="web-1").to_dict())
    work()
    assert not [m for m in feed(rt) if "web (test): OOMKilled" in m["text"]]  # held
    rt.redis.delete("dockyard:mute:web")  # the hour is over
    incidents.sweep(quiet_seconds=3600)
    [caught_up] = [m for m in feed(rt) if "web (test): OOMKilled" in m["text"]]
    assert "[Silence 1h]" in caught_up["text"] and "[Rollback]" in caught_up["text"]


def test_quiet_hours_hold_all_but_critical_and_deliver_a_digest_after(rt, work, tmp_path):
    import shutil
    from datetime import datetime, timezone

    import yaml

    from watcher.detect import Finding
    from core.runtime import Runtime
    from jobs import held
    from jobs.queues import enqueue
    from rules import load_rules, routing
    from rules.routing_model import QuietHours

    night = QuietHours(start="22:00", end="07:00")
    assert routing.quiet_now(night, datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc))
    assert routing.quiet_now(night, datetime(2026, 11, 22, 6, 59, tzinfo=timezone.utc))
    assert not routing.quiet_now(night, datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc))
    for name in ("catalog.yaml", "policy.yaml"):
        shutil.copy(Path(__file__).resolve().parent.parent / "rules" / name, tmp_path / name)
    routing_yaml = yaml.safe_load((Path(__file__).resolve().parent.parent / "rules" / "routing.yaml").read_text())
    now = datetime.now(timezone.utc)
    start, end = f"{(now.hour - 1) % 24:02d}:00", f"{(now.hour + 1) % 24:02d}:00"  # quiet right now
    routing_yaml["channels"]["storefront"]["quiet_hours"] = {"start": start, "end": end}
    (tmp_path / "routing.yaml").write_text(yaml.safe_dump(routing_yaml))
    quiet_rt = runtime.install(Runtime(settings=rt.settings, rules=load_rules(tmp_path)))
    for reason, severity in (("ImagePullBackOff", "warning"), ("OOMKilled", "critical")):
        enqueue(quiet_rt.redis, quiet_rt.settings, "notify", "jobs.incidents.record", "health", finding=Finding(
            service="web", env="test", reason=reason, key=f"quiet-{reason}", severity=severity).to_dict())
    work()
    posted = [m["text"].splitlines()[0] for m in feed(quiet_rt)]
    assert any("web (test): OOMKilled" in t for t in posted)  # critical gets through (oncall and storefront)
    assert not any("ImagePullBackOff" in t for t in posted)  # the warning waits
    assert held.flush(now=datetime(2026, 1, 1, (now.hour + 3) % 24, 0, tzinfo=timezone.utc)) == {"storefront": 1}
    digest = feed(quiet_rt)[-1]["text"]
    assert digest.startswith("⚠ 1 message(s) held during quiet hours") and "ImagePullBackOff" in digest


def test_a_watcher_outlives_a_redis_restart_mid_watch(cluster, tmp_path):
    """Redis dies while pod events stream in (a restart, a failover): every watch waits it out, and an OOM
    after it is back still reaches the team. A watch thread that met the outage used to end for good."""
    import time

    from deploy.local.services import RedisServer

    own = RedisServer(tmp_path / "redis").start()
    previous = runtime._current
    (tmp_path / "rules").mkdir()
    rt = runtime.install(live_runtime(own.url, write_rules(tmp_path / "rules"), cluster.dockyard_kubeconfig))
    kube = connect(cluster.admin_kubeconfig)
    watcher = None
    try:
        Chat(rt)("alice", "/deploy hredis v1")
        [pod] = fetching.pods(kube, NS, {"app": "hredis"})
        watcher = Watcher(rt, quiet_seconds=2, sweep_every=0.5).start()
        wait_until(watcher.leader.is_set, 10, "the watcher leading")
        own.proc.kill()  # kill -9, mid-watch
        own.proc.wait(10)
        for n in range(5):  # events while Redis is away: each one's resourceVersion cannot be written
            kube.core.patch_namespaced_pod(pod.metadata.name, NS, {"metadata": {"labels": {"nudge": str(n)}}})
            time.sleep(0.3)
        own.start()  # the same port, empty (no persistence): nothing the watcher kept survives
        oom(kube, pod.metadata.name)
        pump(rt, lambda: about(rt, "hredis"), "an OOM after Redis came back", timeout=60)
        assert all(thread.is_alive() for thread in watcher.threads)
    finally:
        heal(kube, pod.metadata.name)
        if watcher is not None:
            watcher.close()
        kube.apps.delete_namespaced_deployment("hredis", NS)
        runtime._current = previous
        own.stop()
