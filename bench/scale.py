"""Size: a catalog of 1,000 services with 10,000 pods in their namespace (kwok makes pods cheap). Measures
the watcher's start-up (process start → every watch listed and running) and its memory, the web
process's start-up with that catalog, and /status in chat (submit → the reply) over those pods.

Not in the default set: creating 10,000 pods takes minutes on a small machine. Runs on its own Redis
and processes (the stack's watcher would hold the lease), on the stack's local control plane."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bench import procs
from bench.procs import percentiles, rss_mib
from bench.report import Figure
from bench.stack import ENV, NS, PROCFILE, ROOT, Stack
from bots.console.sink import wait_replies
from bots.pipeline import ChatRequest, submit
from core import runtime
from core.config import from_env
from core.runtime import Runtime
from deploy.kube import connect
from deploy.local.cluster import NODES
from deploy.local.services import RedisServer, wait_until
from rules import load_rules

SECTION = "scale"
KINDS = ("pods", "events", "endpointslices", "jobs")  # what the watcher watches per namespace


def service(i: int) -> str:
    return f"s{i:04d}"


def write_rules(directory: Path, services: int) -> Path:
    """The example rules plus `services` services of team payments in the bench's namespace."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("policy.yaml", "routing.yaml"):
        shutil.copy(ROOT / "rules" / name, directory / name)
    catalog = yaml.safe_load((ROOT / "rules" / "catalog.yaml").read_text())
    for i in range(services):
        catalog["services"][service(i)] = {
            "team": "payments", "language": "node", "git": f"pay/{service(i)}", "port": 3000, "router": "replicas",
            "environments": {ENV: {"namespace": NS, "replicas": 10, "resources": "0.5C1G"}}}
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return directory


def _pod(name: str, app: str, node: str) -> dict:
    # nodeName set: kwok takes them at once, the scheduler need not place 10,000 pods
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"nodeName": node, "containers": [{"name": app, "image": f"registry.example/{app}:v1"}]}}


def run(stack: Stack, services: int = 1000, pods: int = 10_000, status_runs: int = 20) -> list[Figure]:
    assert stack.cluster is not None
    admin = connect(stack.cluster.admin_kubeconfig)
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: admin.core.create_namespaced_pod(
            NS, _pod(f"{service(k % services)}-{k // services}", service(k % services), NODES[k % len(NODES)][0])),
            range(pods)))
    created = time.monotonic() - started
    wait_until(lambda: admin.core.list_namespaced_pod(NS, label_selector="app", field_selector="status.phase!=Running",
                                                      limit=1).items == [], 600, f"{pods} pods running", interval=2)
    ready = time.monotonic() - started
    redis_server = RedisServer(stack.dir / "scale-redis").start()
    rules = write_rules(stack.dir / "scale-rules", services)
    env = {**stack.env(), "DOCKYARD_REDIS_URL": redis_server.url, "DOCKYARD_RULES_DIR": str(rules)}
    running = []
    try:
        from redis import Redis

        redis = Redis.from_url(redis_server.url)
        t0 = time.monotonic()
        watcher = procs.dockyard(["watcher"], env, stack.logs / "scale-watcher.log")
        running.append(watcher)
        keys = [f"dockyard:watch:{kind}:{NS}" for kind in KINDS]
        wait_until(lambda: redis.exists(*keys) == len(keys), 600, "the watcher's first lists", interval=0.1)
        watcher_start = time.monotonic() - t0
        time.sleep(3)
        watcher_mib = rss_mib(watcher.pid)

        t0 = time.monotonic()
        web, _ = procs.gunicorn("handlers.app:create_app()", env, stack.logs / "scale-web.log")
        running.append(web)
        web_start = time.monotonic() - t0
        for name in ("worker", "notifier"):  # as the Procfile runs them
            if name in PROCFILE:
                running.append(procs.dockyard(PROCFILE[name], env, stack.logs / f"scale-{name}.log"))
        previous = runtime._current
        rt = runtime.install(Runtime(settings=from_env(env), rules=load_rules(rules)))
        samples = []
        try:
            for i in range(status_runs + 1):
                conversation = f"bench-status-{i}"
                t0 = time.monotonic()
                submit(rt, ChatRequest("console", "bob", f"/status {service(i * 37 % services)} in {ENV}",
                                       {"sink": "console", "conversation": conversation}))
                if not wait_replies(rt.redis, conversation, 60):
                    raise RuntimeError(f"/status had no reply within 60 s; see {stack.logs}/scale-worker.log")
                if i:  # the first warms the worker up
                    samples.append((time.monotonic() - t0) * 1000)
        finally:
            runtime._current = previous
    finally:
        for proc in reversed(running):
            procs.stop(proc)
        redis_server.stop()
    p50, p99 = percentiles(samples)
    size = f"{services} services, {pods} pods in {NS}"
    return [Figure(SECTION, f"{pods} pods created and running", ready, "s", n=pods, note=f"created in {created:.0f} s"),
            Figure(SECTION, "watcher start-up (every watch listed)", watcher_start, "s", note=size),
            Figure(SECTION, "watcher RSS after start-up", watcher_mib, "MiB", note=size),
            Figure(SECTION, "web start-up (gunicorn answering)", web_start, "s", note=size),
            Figure(SECTION, "/status <svc> → reply", p50, "ms", p50=p50, p99=p99, n=len(samples),
                   note=f"{size}; forking worker")]
