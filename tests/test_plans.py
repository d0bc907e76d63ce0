"""Canary plans against Debian's Prometheus: healthy metrics promote step by step, a bad reading aborts."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from core import runtime
from deploy import fetching, render
from deploy.kube import connect
from deploy.local.services import Prometheus, wait_until
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from state import plans
from tests.rollout_fixtures import Chat, live_runtime, write_rules
from tests.test_scheduler import Replicas

QUERY = 'dockyard_test_success_ratio{app="{service}",track="{track}"}'


class Exporter:
    """What the canary's metrics say, set by the test, served in Prometheus's text format."""

    def __init__(self):
        self.values: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = "".join(f'dockyard_test_success_ratio{{app="{app}",track="canary"}} {value}\n'
                               for app, value in outer.values.items()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.target = f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def exporter():
    running = Exporter()
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def prometheus(exporter, tmp_path_factory):
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), [exporter.target]).start()
    yield server
    server.stop()


@pytest.fixture
def chat(redis, redis_server, cluster, tmp_path, prometheus):
    rules = write_rules(tmp_path)
    catalog = yaml.safe_load((rules / "catalog.yaml").read_text())
    for name in ("plnok", "plnbad"):
        catalog["services"][name] = {
            "team": "storefront", "language": "node", "git": f"shop/{name}", "port": 3000, "router": "replicas",
            "analysis": {"failure_limit": 1, "metrics": [{"name": "success-rate", "query": QUERY, "min": 0.99}]},
            "environments": {"test": {"namespace": "shop-test", "replicas": 4, "resources": "0.5C1G",
                                      "progress_deadline": 6}}}
    (rules / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, rules, cluster.dockyard_kubeconfig,
                                      prometheus_url=prometheus.url))
    yield Chat(rt)
    runtime._current = previous


def run_until(chat: Chat, done, what: str, timeout: float = 90) -> None:
    """Work the queues (the scheduler processes fire the steps) until `done()`."""
    def step() -> bool:
        DockyardSimpleWorker(list(QUEUES), connection=chat.rt.redis).work(burst=True)
        return done()
    wait_until(step, timeout, what, interval=0.5)


def plan_message(chat: Chat, service: str) -> dict:
    from tests.rollout_fixtures import feed

    return [m for m in feed(chat.rt) if m["text"].startswith(f"ℹ {service} (test): canary plan")
            or f"{service} (test): canary plan" in m["text"]][-1]


def scheduled_jobs(chat: Chat) -> list[str]:
    return [k.decode().removeprefix("rq:job:") for k in chat.rt.redis.scan_iter("rq:job:scheduled-*")]


def test_healthy_metrics_walk_the_plan_to_stable_even_when_the_leader_dies(chat, exporter, cluster):
    exporter.values["plnok"] = 0.999
    chat("alice", "/deploy plnok v1")
    first = chat("alice", "/deploy plnok v2 canary 25,50% every 10s")
    assert any("canary plan — step 1/2, 25% live" in m["text"] for m in first)
    replicas = Replicas(chat.rt, 2)
    try:
        run_until(chat, lambda: len(scheduled_jobs(chat)) >= 1, "the first analysis to fire")
        replicas.leader().kill()  # mid-plan: the standby must fire the next step, once
        run_until(chat, lambda: plans.load(chat.rt.redis, "plnok", "test").status == "promoted",
                  "the plan to promote")
    finally:
        replicas.stop()
    dep = fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-test", "plnok")
    assert fetching.image_of(dep).endswith(":v2")
    assert fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-test",
                                    render.workload_name("plnok", "canary")) is None
    final = plan_message(chat, "plnok")
    assert "canary plan — promoted to stable" in final["text"]
    assert any("success-rate: 0.999 (wants >= 0.99) ok" in line for line in final["message"]["lines"])
    fired = scheduled_jobs(chat)
    assert len(fired) == len(set(fired)) == 2  # two analyses, each fired exactly once


def test_a_bad_success_rate_at_step_two_aborts_with_the_value(chat, exporter, cluster):
    exporter.values["plnbad"] = 0.999
    chat("alice", "/deploy plnbad v1")
    chat("alice", "/deploy plnbad v2 canary 25,50% every 10s")
    replicas = Replicas(chat.rt, 1)
    try:
        run_until(chat, lambda: plans.load(chat.rt.redis, "plnbad", "test").index == 1, "step 2 (50%) to go live")
        exporter.values["plnbad"] = 0.42
        run_until(chat, lambda: plans.load(chat.rt.redis, "plnbad", "test").status == "aborted", "the abort")
    finally:
        replicas.stop()
    final = plan_message(chat, "plnbad")
    assert "canary plan — aborted: all traffic back to stable" in final["text"]
    assert any("success-rate: 0.42 (wants >= 0.99) FAILED" in line for line in final["message"]["lines"])
    dep = fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-test", "plnbad")
    assert fetching.image_of(dep).endswith(":v1")  # stable untouched
    assert fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-test",
                                    render.workload_name("plnbad", "canary")) is None


def test_pause_holds_the_plan_and_resume_continues_it(chat, exporter):
    exporter.values["plnok"] = 0.999
    chat("alice", "/deploy plnok v1")
    chat("alice", "/deploy plnok v3 canary 25,50% every 10s")
    chat("alice", "/deploy plnok pause")
    assert plans.load(chat.rt.redis, "plnok", "test").status == "paused"
    assert "canary plan — paused at 25%" in plan_message(chat, "plnok")["text"]  # the plan's one message
    chat("alice", "/deploy plnok resume")
    assert plans.load(chat.rt.redis, "plnok", "test").status == "running"
    assert "resumed by alice" in plan_message(chat, "plnok")["message"]["lines"]
    chat("alice", "/deploy plnok abort")  # a person ends the plan: it says so, and no step follows
    assert plans.load(chat.rt.redis, "plnok", "test").status == "aborted"
    assert "abort by alice" in plan_message(chat, "plnok")["message"]["lines"]
