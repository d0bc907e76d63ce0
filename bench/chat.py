"""The chat path in this process: parse (vs shlex.split of the same text) and submit() — parse, policy,
audit, enqueue — on the bench's Redis (vs one PING round trip and a bare RQ enqueue)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

from rq import Queue

from bench.procs import percentiles
from bench.report import Figure
from bench.stack import Stack
from bots.grammar import parse
from bots.pipeline import ChatRequest, submit
from core import runtime

SECTION = "chat"
TEXTS = ["/deploy web v2 canary 25% to prod", "/status web", "/silence HighErrorRate 2h deploy",
         "/scale api 4 in prod", "/freeze prod until 18:00 release"]


def measure(fn: Callable[[int], object], n: int) -> tuple[float, float, float]:
    """p50 and p99 (ms) of single calls, and calls a second over the whole run."""
    for i in range(min(200, n)):  # warm up
        fn(i)
    samples = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    rate = n / (time.perf_counter() - started)
    return (*percentiles(samples), rate)


def run(stack: Stack, n: int = 3000) -> list[Figure]:
    rt = runtime.install(stack.runtime())
    redis = rt.redis

    def figure(name: str, measured: tuple[float, float, float], **more) -> Figure:
        """The value is one call's p50 (ms), so the ratio says how many times the baseline's cost it is."""
        p50, p99, rate = measured
        return Figure(SECTION, name, p50, "ms", p50=p50, p99=p99, n=n, note=f"{rate:,.0f} calls/s", **more)

    shlexed = measure(lambda i: shlex.split(TEXTS[i % len(TEXTS)]), n * 5)
    parsed = measure(lambda i: parse(TEXTS[i % len(TEXTS)]), n * 5)
    ping = measure(lambda i: redis.ping(), n)
    queue = Queue("bench", connection=redis)
    bare = measure(lambda i: queue.enqueue("builtins.len", "x"), n)
    accepted = measure(lambda i: submit(rt, ChatRequest("console", "alice", "/status web", {"sink": "console"})), n)
    refused = measure(lambda i: submit(rt, ChatRequest("console", "bob", "/deploy web to prod", {"sink": "console"})), n)
    stack.clear_queues()  # thousands of /status jobs no worker should run later
    return [figure("baseline: shlex.split", shlexed), figure("parse", parsed, baseline="shlex.split",
                                                              baseline_value=shlexed[0]),
            figure("baseline: redis PING", ping), figure("baseline: bare RQ enqueue", bare),
            figure("submit (accepted → enqueued)", accepted, baseline="bare RQ enqueue", baseline_value=bare[0], goal="≤ 1.5× bare enqueue", met=accepted[0] <= 1.5 * bare[0]),
            figure("submit (refused by policy)", refused, baseline="redis PING", baseline_value=ping[0])]
