"""A chat command → the Kubernetes object patched: `/scale bscale N in test` submitted through
bots.pipeline.submit (as a chat platform's handler does), run by the Procfile's `worker` process, timed
until the apiserver (read as admin) shows the Deployment with N replicas. On the local control plane."""

from __future__ import annotations

import time

from bench.procs import percentiles
from bench.report import Figure
from bench.stack import ENV, NS, SCALED, Stack
from bots.console.sink import wait_replies
from bots.pipeline import ChatRequest, submit
from core import runtime
from deploy.kube import connect
from deploy.local.services import wait_until

SECTION = "chat→patched"
USER = "bob"  # the example policy's payments developer in test; the bench's services are payments'


def _say(rt, text: str, conversation: str) -> None:  # type: ignore[no-untyped-def]
    outcome = submit(rt, ChatRequest("console", USER, text, {"sink": "console", "conversation": conversation}))
    if not outcome.accepted:
        raise RuntimeError(f"{text!r} was refused: {outcome.message.title}")


def _replicas(kube, name: str) -> int:  # type: ignore[no-untyped-def]
    return kube.apps.read_namespaced_deployment(name, NS).spec.replicas


def run(stack: Stack, runs: int = 30) -> list[Figure]:
    assert stack.cluster is not None
    stack.start("worker", "notifier")
    rt = runtime.install(stack.runtime())
    admin = connect(stack.cluster.admin_kubeconfig)
    _say(rt, f"/deploy {SCALED} v1 to {ENV}", "bench-deploy")
    wait_until(lambda: (admin.apps.read_namespaced_deployment(SCALED, NS).status.ready_replicas or 0) >= 2, 120,
               f"the first deploy of {SCALED} (see {stack.logs}/worker.log)", interval=0.2)
    wait_replies(rt.redis, "bench-deploy", 60)
    samples = []
    for i in range(runs + 1):
        want = 3 if _replicas(admin, SCALED) == 2 else 2
        conversation = f"bench-scale-{i}"
        started = time.perf_counter()
        _say(rt, f"/scale {SCALED} {want} in {ENV}", conversation)
        deadline = started + 60
        while _replicas(admin, SCALED) != want:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"/scale {SCALED} {want} was not applied within 60 s; see {stack.logs}/worker.log")
            stack.check_alive()
            time.sleep(0.005)
        if i:  # the first is a warm-up (the worker's imports and Kubernetes client)
            samples.append((time.perf_counter() - started) * 1000)
        if not wait_replies(rt.redis, conversation, 60):  # the job has finished and let go of the service's lock
            raise RuntimeError(f"no reply to /scale {SCALED} {want}; see {stack.logs}/worker.log")
    p50, p99 = percentiles(samples)
    return [Figure(SECTION, "/scale → Deployment patched", p50, "ms", p50=p50, p99=p99, n=len(samples),
                   note="submit() → forking `worker` → apiserver, polled as admin every 5 ms")]
