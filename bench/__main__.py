"""Measure the chat path: parsing, and submit() (parse → policy → audit → enqueue) on real Redis.

Each figure comes with a baseline run in the same process, so the ratio says
what Dockyard adds on top of the unavoidable work:
  - parse vs shlex.split of the same text (tokenising alone);
  - submit vs one Redis PING round trip and vs a bare RQ enqueue.
"""

from __future__ import annotations

import shlex
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redis import Redis
from rq import Queue

from bots.grammar import parse
from bots.pipeline import ChatRequest, submit
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from rules import load_rules
from deploy.local.services import RedisServer

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["/deploy web v2 canary 25% to prod", "/status web", "/silence HighErrorRate 2h deploy",
         "/scale api 4 in prod", "/freeze prod until 18:00 release"]


def measure(name: str, fn: Callable[[int], None], n: int) -> dict:
    for i in range(min(200, n)):  # warm up
        fn(i)
    samples = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    total = time.perf_counter() - started
    q = statistics.quantiles(samples, n=100)
    row = {"name": name, "n": n, "p50": q[49], "p95": q[94], "p99": q[98], "ops": n / total}
    print(f"{name:<34} n={n:<6} p50={row['p50']:8.1f}µs p95={row['p95']:8.1f}µs "
          f"p99={row['p99']:8.1f}µs  {row['ops']:10.0f} ops/s")
    return row


def ratio(a: dict, b: dict) -> None:
    print(f"  → {a['name']} / {b['name']}: p50 ×{a['p50'] / b['p50']:.1f}, throughput ×{a['ops'] / b['ops']:.2f}")


def main() -> None:
    base = measure("baseline: shlex.split", lambda i: shlex.split(TEXTS[i % len(TEXTS)]), 20000)
    parsed = measure("parse", lambda i: parse(TEXTS[i % len(TEXTS)]), 20000)
    ratio(parsed, base)

    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis").start()
        try:
            redis = Redis.from_url(server.url)
            rt = runtime.install(Runtime(settings=Settings(redis_url=server.url), rules=load_rules(ROOT / "rules")))
            ping = measure("baseline: redis PING", lambda i: redis.ping(), 5000)
            queue = Queue("bench", connection=redis)
            bare = measure("baseline: bare RQ enqueue", lambda i: queue.enqueue("builtins.len", "x"), 3000)
            accepted = measure("submit (accepted → enqueued)", lambda i: submit(
                rt, ChatRequest("console", "alice", "/status web", {"sink": "console"})), 3000)
            refused = measure("submit (refused by policy)", lambda i: submit(
                rt, ChatRequest("console", "bob", "/deploy web to prod", {"sink": "console"})), 3000)
            ratio(accepted, ping)
            ratio(accepted, bare)
            ratio(refused, ping)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
