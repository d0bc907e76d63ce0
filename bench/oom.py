"""A pod OOMKilled → the incident message delivered: the pod's status is patched (as the kubelet would,
through the status subresource, as admin) and timed until the console sink's feed holds the message,
with the Procfile's `watcher` and `notifier` processes between. Each run is a fresh incident: one pod
of its own service (boom01 … boomNN; boom00 warms the path up)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from bench.procs import percentiles
from bench.report import Figure
from bench.stack import ENV, NS, OOM_PODS, Stack, oom_service
from bots.console.sink import FEED
from deploy.kube import connect
from deploy.local.services import wait_until

SECTION = "oom→delivered"


def _pod(service: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{service}-0", "labels": {"app": service}},
            "spec": {"containers": [{"name": service, "image": f"registry.example/{service}:v1"}]}}


def _oom_status(pod) -> dict:  # type: ignore[no-untyped-def]
    """What the kubelet reports after an OOM kill: the last state terminated with reason OOMKilled, one more restart."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    container = pod.spec.containers[0]
    restarts = (pod.status.container_statuses or [None])[0]
    count = (restarts.restart_count if restarts else 0) + 1
    return {"status": {"containerStatuses": [{
        "name": container.name, "image": container.image, "imageID": "", "ready": True, "started": True,
        "restartCount": count, "state": {"running": {"startedAt": now}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": now, "finishedAt": now}}}]}}


def _delivered(stack: Stack, service: str, after: bytes, timeout: float) -> str:
    """Wait for the console feed's first message about this service's OOM incident, after stream id `after`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        for _, entries in stack.redis.xread({FEED: after}, block=100) or []:
            for entry_id, fields in entries:
                after = entry_id
                text = json.loads(fields[b"payload"])["text"]
                if f"{service} ({ENV}): OOMKilled" in text.splitlines()[0]:
                    return text.splitlines()[0]
    return ""


def run(stack: Stack, runs: int = 30) -> list[Figure]:
    assert stack.cluster is not None
    runs = min(runs, OOM_PODS - 1)
    admin = connect(stack.cluster.admin_kubeconfig)
    names = [oom_service(i) for i in range(runs + 1)]
    for service in names:
        admin.core.create_namespaced_pod(NS, _pod(service))
    wait_until(lambda: all(admin.core.read_namespaced_pod(f"{s}-0", NS).status.phase == "Running" for s in names),
               120, "the bench's pods running")
    stack.start("notifier", "worker", "watcher")
    samples = []
    for i, service in enumerate(names):
        pod = admin.core.read_namespaced_pod(f"{service}-0", NS)
        last = stack.redis.xrevrange(FEED, count=1)
        after = last[0][0] if last else b"0-0"
        started = time.perf_counter()
        admin.core.patch_namespaced_pod_status(f"{service}-0", NS, _oom_status(pod))
        headline = _delivered(stack, service, after, 60)
        if not headline:
            raise RuntimeError(f"no OOMKilled message for {service} within 60 s; see {stack.logs}/watcher.log "
                               f"and notifier.log")
        if i:  # the first warms up the watcher's watch and the notifier
            samples.append((time.perf_counter() - started) * 1000)
    p50, p99 = percentiles(samples)
    return [Figure(SECTION, "OOMKilled status → console message", p50, "ms", p50=p50, p99=p99, n=len(samples),
                   note=f"watcher → notify queue → notifier → console sink; the last: {headline!r}")]
