"""Prometheus metrics kept in Redis, so every process adds to the same numbers.

The web process runs several gunicorn workers and the RQ workers are other
processes (on other hosts when scaled out); in-process counters would give a
different answer on every scrape. A counter is a Redis hash field; /metrics
reads them all back through one custom collector.

A gauge is not stored: it is read from Redis at scrape time by a function the web process
passes to the collector (a stored level would go stale the moment a process died).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from redis import Redis
from redis.client import Pipeline

from core.durable import Packed, Writes, pack

KEY = "dockyard:metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

COUNTERS = {
    "dockyard_http_requests": ("HTTP requests by endpoint and status", ("endpoint", "method", "status")),
    "dockyard_jobs_enqueued": ("RQ jobs enqueued, by kind", ("kind",)),
    "dockyard_jobs_finished": ("RQ jobs finished, by kind", ("kind",)),
    "dockyard_jobs_failed": ("RQ job attempts that raised, by kind and whether retried", ("kind", "final")),
    "dockyard_notifications_sent": ("chat messages the platform accepted (a digest is one), by sink", ("sink",)),
    "dockyard_notifications_events": ("notifications those messages carried (a digest carries many), by sink",
                                      ("sink",)),
    "dockyard_notifications_failed": ("chat messages that failed to deliver, by sink", ("sink",)),
    "dockyard_commands": ("chat commands by verb and result", ("verb", "result")),
}
HISTOGRAMS = {"dockyard_job_duration_seconds": ("RQ job run time, by kind", ("kind",))}
GAUGES = {"dockyard_outbox_backlog": ("chat messages waiting in outboxes for their platform's quota, by sink",
                                      ("sink",))}
# A gauge's reader: Redis -> {label value: level}, for a gauge with one label.
GaugeReader = Callable[[Redis], Mapping[str, float]]


def _field(name: str, labels: dict[str, str]) -> str:
    return _field_of(name, tuple(sorted(labels.items())))


@lru_cache(maxsize=4096)  # label values come from fixed sets; a request's counter is the same JSON each time
def _field_of(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([name, labels], separators=(",", ":"))


def inc(redis: Redis | Pipeline | Writes, name: str, amount: int = 1, **labels: str) -> None:
    """Add to a counter (now, or with a request's other writes: a pipeline or core.durable's Writes).

    Counters count events, so whole numbers: HINCRBY costs Redis a fraction of HINCRBYFLOAT's
    parsing and formatting of long doubles, on every request (issue #18).
    """
    if name not in COUNTERS:
        raise KeyError(f"unknown counter {name}")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"counter {name} counts whole events, not {amount!r}")
    if isinstance(redis, Writes):
        redis.add_packed(packed_inc(name, amount, **labels))
    else:
        redis.hincrby(KEY, _field(name, labels), amount)


def packed_inc(name: str, amount: int = 1, **labels: str) -> Packed:
    """inc() as one packed command for core.durable (Writes.add_packed): for counters a hot path repeats."""
    if name not in COUNTERS:
        raise KeyError(f"unknown counter {name}")
    return _packed_inc(name, amount, tuple(sorted(labels.items())))


@lru_cache(maxsize=4096)
def _packed_inc(name: str, amount: int, labels: tuple[tuple[str, str], ...]) -> Packed:
    return pack(("HINCRBY", KEY, _field_of(name, labels), amount))


def observe(redis: Redis, name: str, value: float, **labels: str) -> None:
    """Record one observation in a histogram (cumulative buckets, sum, count)."""
    if name not in HISTOGRAMS:
        raise KeyError(f"unknown histogram {name}")
    pipe = redis.pipeline(transaction=False)
    for bound in BUCKETS:
        if value <= bound:
            pipe.hincrbyfloat(KEY, _field(name + ":bucket", {**labels, "le": str(bound)}), 1)
    pipe.hincrbyfloat(KEY, _field(name + ":bucket", {**labels, "le": "+Inf"}), 1)
    pipe.hincrbyfloat(KEY, _field(name + ":sum", labels), value)
    pipe.hincrbyfloat(KEY, _field(name + ":count", labels), 1)
    pipe.execute()


class RedisCollector(Collector):
    """Reads every counter and histogram back from Redis at scrape time, and each gauge from its reader."""

    def __init__(self, redis: Redis, gauges: Mapping[str, GaugeReader] | None = None):
        unknown = set(gauges or {}) - set(GAUGES)
        if unknown:
            raise KeyError(f"unknown gauge {sorted(unknown)[0]}")
        self.redis, self.gauges = redis, dict(gauges or {})

    def collect(self) -> Iterator:
        raw = self.redis.hgetall(KEY)
        values: dict[str, list[tuple[dict[str, str], float]]] = {}
        for field, value in raw.items():
            name, labels = json.loads(field)
            values.setdefault(name, []).append((dict(labels), float(value)))
        for name, (doc, label_names) in COUNTERS.items():
            family = CounterMetricFamily(name, doc, labels=label_names)
            for labels, value in values.get(name, []):
                family.add_metric([labels.get(n, "") for n in label_names], value)
            yield family
        for name, (doc, label_names) in HISTOGRAMS.items():
            family = HistogramMetricFamily(name, doc, labels=label_names)
            series: dict[tuple, dict] = {}
            for labels, value in values.get(name + ":bucket", []):
                key = tuple(labels.get(n, "") for n in label_names)
                series.setdefault(key, {"buckets": {}, "sum": 0.0})["buckets"][labels["le"]] = value
            for labels, value in values.get(name + ":sum", []):
                key = tuple(labels.get(n, "") for n in label_names)
                series.setdefault(key, {"buckets": {}, "sum": 0.0})["sum"] = value
            for key, data in series.items():
                bounds = [str(b) for b in BUCKETS] + ["+Inf"]
                # observe() already counts cumulatively; a missing bucket had no observation.
                buckets = [(b, data["buckets"].get(b, 0.0)) for b in bounds]
                family.add_metric(list(key), buckets, data["sum"])
            yield family
        for name, read in self.gauges.items():
            doc, label_names = GAUGES[name]
            gauge = GaugeMetricFamily(name, doc, labels=label_names)
            for value, level in sorted(read(self.redis).items()):
                gauge.add_metric([value], level)
            yield gauge
