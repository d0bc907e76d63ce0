"""A 1,000-alert Alertmanager group → its one message rendered and queued for its DingTalk robot: the
webhook's parse (handlers/alerts.py), then the notify job (ownership, routing, render in
bots/alert_messages.py, the push into the robot's outbox). In this process, on the bench's Redis.
Baseline: json.loads of the same body."""

from __future__ import annotations

import json
import time

from bench.procs import percentiles
from bench.report import Figure
from bench.stack import Stack
from bots.alert_messages import render
from bots.sinks import outbox
from core import runtime
from handlers.alerts import parse
from jobs import alerts as alert_jobs

SECTION = "alert group"
GOAL_MS = 200


def body(alerts: int, group: int) -> bytes:
    """Alertmanager's webhook (version 4) for one group of `alerts` firing alerts, one per pod of web."""
    common = {"alertname": "HighMemory", "service": "web", "severity": "warning", "namespace": "shop-prod"}
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{alertname="HighMemory", run="{group}"}}', "truncatedAlerts": 0,
        "status": "firing", "receiver": "dockyard", "groupLabels": {"alertname": "HighMemory"},
        "commonLabels": common, "commonAnnotations": {"runbook_url": "http://wiki.example/runbooks/memory"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{"status": "firing", "labels": {**common, "pod": f"web-7d9f8b6c5-{i:05x}", "instance": f"10.1.{i // 250}.{i % 250}:3000"},
                    "annotations": {"summary": f"web-7d9f8b6c5-{i:05x} uses 97% of its memory limit"},
                    "startsAt": "2026-05-01T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"{i:016x}",
                    "generatorURL": f"http://prometheus.example/graph?g0.expr=memory&pod={i}"}
                   for i in range(alerts)]}).encode()


def _ms(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run(stack: Stack, alerts: int = 1000, repeats: int = 20) -> list[Figure]:
    rt = runtime.install(stack.runtime())
    box = outbox.outbox_key("dingtalk", "storefront")
    bodies = [body(alerts, k) for k in range(repeats + 2)]
    decode, parse_ms, render_ms, whole = [], [], [], []
    for k, raw in enumerate(bodies):
        before = rt.redis.llen(box)
        decode.append(_ms(lambda: json.loads(raw)))
        group = parse(json.loads(raw))
        parse_ms.append(_ms(lambda: parse(json.loads(raw))))
        render_ms.append(_ms(lambda: render(group, "en", "UTC")))
        whole.append(_ms(lambda: alert_jobs.notify(parse(json.loads(raw)).to_dict())))
        if rt.redis.llen(box) != before + 1:
            raise RuntimeError(f"a {alerts}-alert group did not queue exactly one message for its DingTalk robot")
    stack.clear_queues()  # the robot's quota is the dingtalk section's to spend
    del decode[:2], parse_ms[:2], render_ms[:2], whole[:2]  # warm-up
    p50, p99 = percentiles(whole)
    base50, _ = percentiles(decode)
    note = f"{alerts} alerts; parse p50 {percentiles(parse_ms)[0]:.1f} ms, render p50 {percentiles(render_ms)[0]:.1f} ms"
    return [Figure(SECTION, f"{alerts}-alert group → rendered and queued", p50, "ms", p50=p50, p99=p99, n=len(whole),
                   baseline="json.loads", baseline_value=base50, goal=f"< {GOAL_MS} ms", met=p99 < GOAL_MS, note=note)]
