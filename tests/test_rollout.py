"""Every deploy verb on the real control plane, driven through the chat pipeline and real RQ workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import runtime
from deploy import fetching
from deploy.kube import connect
from tests.kubehelp import wait_pods
from tests.rollout_fixtures import Chat, live_runtime, write_rules

NS = "shop-test"
REPO = "registry.local/shop"


@pytest.fixture
def chat(redis, cluster, tmp_path):
    previous = runtime._current
    rt = runtime.install(live_runtime(redis.connection_pool.connection_kwargs and
                                      f"redis://127.0.0.1:{redis.connection_pool.connection_kwargs['port']}/0",
                                      write_rules(tmp_path), cluster.dockyard_kubeconfig))
    yield Chat(rt)
    runtime._current = previous


@pytest.fixture
def k(cluster):
    """The test looks as the cluster admin; Dockyard acts with its own identity (the runtime's kubeconfig)."""
    return connect(cluster.admin_kubeconfig)


def image(dep) -> str:
    return fetching.image_of(dep)


def read(k, name):
    return fetching.read_deployment(k, NS, name)


def dyn(k, api_version, kind, name):
    from kubernetes.client.exceptions import ApiException
    try:
        return k.dynamic.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=NS).to_dict()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_rolling_deploy_history_and_rollback(chat, k):
    first = chat("alice", "/deploy roll v1")
    assert first[-1]["text"].startswith("✔ roll (test): rolling update to v1 — done in")
    assert image(read(k, "roll")) == f"{REPO}/roll:v1"
    progress = [r for r in first if "progress" in r["text"]]
    assert progress and len({r["ref"] for r in progress}) == 1  # one message, edited in place
    assert chat("alice", "/deploy roll v2")[-1]["text"].startswith("✔ roll (test): rolling update to v2")
    dep = read(k, "roll")
    assert image(dep) == f"{REPO}/roll:v2"
    assert dep.metadata.annotations["kubernetes.io/change-cause"] == "alice: /deploy roll v2"
    [history] = chat("alice", "/history roll")
    assert "#1  v1  alice" in history["text"] and "#2  v2  alice" in history["text"]
    assert "← current" in history["text"].splitlines()[-2] or "← current" in history["text"]
    back = chat("alice", "/rollback roll")
    assert back[-1]["text"].startswith("✔ roll (test): rollback to revision 1 (v1) — done")
    assert image(read(k, "roll")) == f"{REPO}/roll:v1"
    named = chat("alice", "/rollback roll to 2")
    assert named[-1]["text"].startswith("✔ roll (test): rollback to revision 2 (v2)")
    assert "has no revision 9" in chat("alice", "/rollback roll to 9")[-1]["text"]


def test_unready_release_is_rolled_back_automatically_with_the_reason(chat, k):
    chat("alice", "/deploy unr v1")
    replies = chat("alice", "/deploy unr v2-unready")
    final = replies[-1]
    assert final["message"]["severity"] == "error"
    assert final["text"].startswith("✖ unr (test): rolling update to v2-unready failed and was rolled back")
    assert "why: no progress for 6s (1/3 updated, 1 not ready)" in final["text"]
    assert "not ready: unr-" in final["text"] and "Unhealthy: Readiness probe failed" in final["text"]
    assert "rolled back to revision 1" in final["text"]
    assert image(read(k, "unr")) == f"{REPO}/unr:v1"
    wait_pods(k, NS, "unr", 3, lambda p: fetching.is_ready(p) and p.spec.containers[0].image.endswith(":v1"))


def test_canary_through_ingress_nginx_weight_change_and_promote(chat, k):
    chat("alice", "/deploy cnx v1")
    live = chat("alice", "/deploy cnx v2 canary 10%")
    assert live[-1]["text"].startswith("✔ cnx (test): canary live — 10% to canary (nginx)")
    canary = read(k, "cnx-canary")
    assert image(canary) == f"{REPO}/cnx:v2" and canary.spec.replicas == 1
    ingress = dyn(k, "networking.k8s.io/v1", "Ingress", "cnx-canary")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/canary"] == "true"
    assert notes["nginx.ingress.kubernetes.io/canary-weight"] == "10"
    generation = canary.metadata.generation
    chat("alice", "/deploy cnx canary 30%")  # a live canary: only the weight changes
    notes = dyn(k, "networking.k8s.io/v1", "Ingress", "cnx-canary")["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/canary-weight"] == "30"
    assert image(read(k, "cnx-canary")) == f"{REPO}/cnx:v2"
    assert read(k, "cnx-canary").spec.template == canary.spec.template and generation >= 1
    [status] = chat("alice", "/status cnx")
    assert "test canary: 1/1 ready, image registry.local/shop/cnx:v2, weight 30% (nginx)" in status["text"]
    done = chat("alice", "/deploy cnx promote")
    assert done[-1]["text"].startswith("✔ cnx (test): promote canary v2 to stable — done")
    assert image(read(k, "cnx")) == f"{REPO}/cnx:v2"
    assert read(k, "cnx-canary") is None
    assert dyn(k, "networking.k8s.io/v1", "Ingress", "cnx-canary") is None
    assert dyn(k, "networking.k8s.io/v1", "Ingress", "cnx") is not None


def test_canary_through_istio_and_abort_leaves_stable_untouched(chat, k):
    chat("alice", "/deploy cis v1")
    stable_before = read(k, "cis").spec.template
    chat("alice", "/deploy cis v2 canary 20%")
    routes = dyn(k, "networking.istio.io/v1", "VirtualService", "cis")["spec"]["http"]
    assert [(d["destination"]["host"], d["weight"]) for d in routes[-1]["route"]] == [("cis", 80),
                                                                                      ("cis-canary", 20)]
    aborted = chat("alice", "/deploy cis abort")
    assert aborted[-1]["text"] == "✔ cis (test): canary and preview removed; stable untouched\n  traffic  all to stable"
    routes = dyn(k, "networking.istio.io/v1", "VirtualService", "cis")["spec"]["http"]
    assert [(d["destination"]["host"], d["weight"]) for d in routes[-1]["route"]] == [("cis", 100)]
    assert read(k, "cis-canary") is None and read(k, "cis").spec.template == stable_before


def test_preview_by_header_beside_a_weighted_canary_through_gateway_api(chat, k):
    chat("alice", "/deploy cgw v1")
    chat("alice", "/deploy cgw v2 canary 10%")
    chat("alice", "/deploy cgw v3 preview")
    route = dyn(k, "gateway.networking.k8s.io/v1", "HTTPRoute", "cgw")["spec"]
    preview, primary = route["rules"]
    assert preview["matches"][0]["headers"] == [{"name": "X-Dockyard-Preview", "type": "Exact", "value": "on"}]
    assert [b["name"] for b in preview["backendRefs"]] == ["cgw-preview"]
    assert [(b["name"], b["weight"]) for b in primary["backendRefs"]] == [("cgw", 90), ("cgw-canary", 10)]
    assert image(read(k, "cgw-preview")) == f"{REPO}/cgw:v3"
    chat("alice", "/deploy cgw abort")
    route = dyn(k, "gateway.networking.k8s.io/v1", "HTTPRoute", "cgw")["spec"]
    assert len(route["rules"]) == 1 and [b["name"] for b in route["rules"][0]["backendRefs"]] == ["cgw"]
    assert read(k, "cgw-preview") is None and read(k, "cgw-canary") is None


def test_replica_ratio_canary_is_honest_about_granularity(chat, k):
    chat("alice", "/deploy crp v1")
    live = chat("alice", "/deploy crp v2 canary 10%")
    assert "10% asked, 1 of 5 pods = 20% actual" in live[-1]["text"]
    service = k.core.read_namespaced_service("crp", NS)
    assert service.spec.selector == {"app": "crp"}  # spans stable and canary pods
    [status] = chat("alice", "/status crp")
    assert "weight 10% asked, 20% actual by replicas" in status["text"]
    assert "preview needs a router that matches headers" in chat("alice", "/deploy crp v3 preview")[-1]["text"]


def test_one_rollout_per_service_at_a_time(chat, k):
    chat("alice", "/deploy lockd v1")
    chat("alice", "/deploy lockd v2 canary 10%")
    refused = chat("dave", "/deploy lockd v3")
    assert refused[0]["refused"]
    assert refused[0]["text"] == "lockd (test) is being deployed by alice, canary 10% — wait, or /deploy lockd abort"
    refused = chat("dave", "/rollback lockd")
    assert refused[0]["text"].startswith("lockd (test) is being deployed by alice")
    chat("dave", "/deploy lockd abort")
    assert chat("dave", "/deploy lockd v3")[-1]["text"].startswith("✔ lockd (test): rolling update to v3")


def test_scale_restart_autoscale_and_logs(chat, k):
    chat("alice", "/deploy ops v1")
    assert chat("alice", "/scale ops 5")[-1]["text"].startswith("✔ ops (test): scale 3 → 5 — done")
    assert read(k, "ops").status.ready_replicas == 5
    chat("alice", "/deploy ops v2")
    assert read(k, "ops").spec.replicas == 5  # a deploy keeps the scale
    restarted = chat("alice", "/restart ops")
    assert restarted[-1]["text"].startswith("✔ ops (test): restart — done")
    assert "kubectl.kubernetes.io/restartedAt" in read(k, "ops").spec.template.metadata.annotations
    auto = chat("alice", "/autoscale ops 2-8 cpu=60%")
    assert auto[-1]["text"].startswith("✔ ops (test): autoscaling 2–8 replicas at 60% CPU")
    hpa = k.autoscaling.read_namespaced_horizontal_pod_autoscaler("ops", NS)
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 8)
    assert "is autoscaled" in chat("alice", "/scale ops 3")[-1]["text"]
    [logs] = chat("alice", "/logs ops --tail 5")
    assert logs["text"].startswith("ℹ ops (test) logs, last 5 lines per pod")
    assert logs["text"].count("── ops-") == 5 and logs["text"].count("line 240") == 5  # kwok serves pod logs


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_worker_killed_mid_rollout_converges_without_duplicates(chat, k, cluster, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    from bots.pipeline import ChatRequest, submit
    from state import locks
    from deploy.local.services import wait_until

    rt = chat.rt
    chat("alice", "/deploy kill v1")
    env = {**os.environ, "DOCKYARD_REDIS_URL": rt.settings.redis_url, "DOCKYARD_RULES_DIR": str(rt.settings.rules_dir),
           "KUBECONFIG": str(cluster.dockyard_kubeconfig)}

    def worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env,
                                cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    first = worker()
    outcome = submit(rt, ChatRequest("console", "alice", "/deploy kill v2-slow",
                                     {"sink": "console", "conversation": "killed"}))
    job = Job.fetch(outcome.job_id, connection=rt.redis)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED and
               image(read(k, "kill")).endswith(":v2-slow") and
               rt.redis.exists("dockyard:progress:" + job.id), 30, "the rollout under way")
    # The worker and its work horse die mid-rollout. RQ puts the horse in a process group of its
    # own (setpgrp), so killing the worker's group alone would leave it finishing the rollout.
    horses = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _parent(d) == first.pid]
    assert horses, "the worker had no work horse running the rollout"
    for horse in horses:
        os.kill(horse, signal.SIGKILL)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    assert job.get_status(refresh=True) == JobStatus.STARTED  # abandoned mid-flight
    mid = read(k, "kill").status
    assert (mid.updated_replicas or 0, mid.ready_replicas or 0, mid.replicas or 0) != (3, 3, 3)  # not done yet
    # RQ declares the job abandoned once its heartbeat expires (60 s + monitoring interval); jump ahead:
    StartedJobRegistry(queue=Queue("rollouts", connection=rt.redis)).cleanup(timestamp=time.time() + 3600)
    second = worker()
    try:
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 60, "the retried job")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
    dep = read(k, "kill")
    assert image(dep) == f"{REPO}/kill:v2-slow" and dep.status.ready_replicas == 3
    assert dep.status.updated_replicas == 3 and (dep.status.replicas or 0) == 3
    sets = k.apps.list_namespaced_replica_set(NS, label_selector="app=kill").items
    assert sorted(rs.spec.template.spec.containers[0].image for rs in sets) == [f"{REPO}/kill:v1", f"{REPO}/kill:v2-slow"]
    replies = [__import__("json").loads(r) for r in rt.redis.lrange("dockyard:console:conversation:killed", 0, -1)]
    finals = [r for r in replies if "— done in" in r["text"]]
    assert len(finals) == 1, [r["text"] for r in replies]
    progress_refs = {r["ref"] for r in replies if "progress" in r["text"]}
    assert len(progress_refs) == 1  # the retried job edited the same progress message
    assert locks.holder(rt.redis, "kill", "test") is None


def test_a_rollout_that_fails_for_good_releases_its_lock(chat, tmp_path):
    from core.config import Settings
    from core.runtime import Runtime
    from state import locks
    from tests.rollout_fixtures import Chat

    dead = tmp_path / "dead.kubeconfig"
    dead.write_text("apiVersion: v1\nkind: Config\ncurrent-context: d\n"
                    "clusters: [{name: d, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: d, context: {cluster: d, user: u}}]\n")
    broken = runtime.install(Runtime(settings=Settings(**{**chat.rt.settings.model_dump(), "kubeconfig": dead}),
                                     rules=chat.rt.rules))
    replies = Chat(broken)("alice", "/deploy lockd v1")
    assert replies[-1]["text"].startswith("✖ /deploy lockd v1 failed after 2 attempts")
    assert "the cluster did not answer" in replies[-1]["text"]
    assert locks.holder(broken.redis, "lockd", "test") is None  # nothing left behind
