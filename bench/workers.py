"""Jobs a second per queue, run by the worker class the Procfile gives that queue, each beside RQ's own
floor (a job that does nothing) in the same worker class and the same run.

- notify: alert-group jobs, enqueued by POSTing the groups to /webhooks/alertmanager (in this process),
  run as the `notifier` runs them (no fork per job): render, route, push to the outbox.
- commands, rollouts, builds: the `worker` forks a work horse per job, so the fork is each job's floor;
  their own work waits on the Kubernetes API (chat-patched and oom measure that path whole).
"""

from __future__ import annotations

import time

from rq import Queue

from bench.report import Figure
from bench.stack import ALERTMANAGER_TOKEN, Stack
from core import runtime
from handlers.app import create_app
from jobs.worker import DockyardSimpleWorker, DockyardWorker
from tests.fakes.alertmanager import one_alert_group

SECTION = "workers"


def _rate(worker_class: type, queue: Queue, n: int) -> float:
    """Jobs a second while one worker of the class drains `n` jobs waiting in `queue`."""
    assert queue.count == n, f"{queue.name} holds {queue.count} jobs, expected {n}"
    started = time.perf_counter()
    worker_class([queue], connection=queue.connection).work(burst=True, with_scheduler=False)
    took = time.perf_counter() - started
    left = queue.count + len(queue.failed_job_registry)
    if left:
        raise RuntimeError(f"{left} of {n} {queue.name} jobs did not finish (failed or left)")
    return n / took


def run(stack: Stack, n: int = 2000, forked: int = 200) -> list[Figure]:
    rt = runtime.install(stack.runtime())
    client = create_app(rt=rt).test_client()
    for i in range(n):
        group = one_alert_group(f"Worker{i:05d}", f"web-{i:05x}", i, "http://alertmanager.example:9093",
                                f"http://prometheus.example/graph?i={i}")
        answer = client.post("/webhooks/alertmanager", json=group,
                             headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"})
        if answer.status_code != 202:
            raise RuntimeError(f"/webhooks/alertmanager answered {answer.status_code}: {answer.get_data(as_text=True)[:200]}")
    notify = Queue("notify", connection=rt.redis)
    alerts = _rate(DockyardSimpleWorker, notify, n)
    for _ in range(n):
        notify.enqueue("builtins.len", "x")
    floor = _rate(DockyardSimpleWorker, notify, n)
    commands = Queue("commands", connection=rt.redis)
    for _ in range(forked):
        commands.enqueue("builtins.len", "x")
    fork_floor = _rate(DockyardWorker, commands, forked)
    stack.clear_queues()  # the outbox the alert jobs filled: no robot should get them in a later section
    return [
        Figure(SECTION, "notify: alert-group jobs (notifier, no fork)", alerts, "jobs/s", n=n,
               baseline="a no-op job, same worker", baseline_value=floor, goal="≥ 100 jobs/s per process",
               met=alerts >= 100),
        Figure(SECTION, "notify: RQ floor (no-op job, no fork)", floor, "jobs/s", n=n),
        Figure(SECTION, "commands/rollouts/builds: RQ floor (no-op job, fork per job)", fork_floor, "jobs/s",
               n=forked, baseline="the same no-op without a fork", baseline_value=floor),
    ]
