"""Canary analysis: the catalog's PromQL queries, run against Prometheus, each reading held to its bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

import requests

from deploy import render
from rules.analysis import Analysis, Metric

TIMEOUT = 10


@dataclass(frozen=True)
class Reading:
    name: str
    value: float | None  # None: no data, or Prometheus did not answer
    bound: str  # ">= 0.99", "<= 0.5"
    ok: bool
    note: str = ""


def promql(metric: Metric, service: str, namespace: str, env: str) -> str:
    """The metric's query with the canary's and stable's labels substituted."""
    values = {"service": service, "namespace": namespace, "env": env, "track": "canary",
              "canary": render.workload_name(service, "canary"), "stable": service}
    text = metric.query
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def query(base_url: str, text: str) -> float | None:
    """One instant query; the first sample's value, or None when the result is empty."""
    response = requests.get(f"{base_url.rstrip('/')}/api/v1/query", params={"query": text}, timeout=TIMEOUT,
                            allow_redirects=False)
    response.raise_for_status()
    data = response.json()["data"]
    if data["resultType"] == "scalar":
        value = float(data["result"][1])
    elif data["result"]:
        value = float(data["result"][0]["value"][1])
    else:
        return None
    return None if math.isnan(value) else value


def _bound(metric: Metric) -> str:
    parts = [f">= {metric.min:g}"] if metric.min is not None else []
    parts += [f"<= {metric.max:g}"] if metric.max is not None else []
    return " and ".join(parts)


def judge(metric: Metric, value: float | None) -> Reading:
    """Pure: does the value keep the metric's bound? No data fails (a silent canary is not a healthy one)."""
    if value is None:
        return Reading(metric.name, None, _bound(metric), False, "no data")
    ok = (metric.min is None or value >= metric.min) and (metric.max is None or value <= metric.max)
    return Reading(metric.name, value, _bound(metric), ok)


def run(base_url: str, analysis: Analysis, service: str, namespace: str, env: str) -> list[Reading]:
    readings = []
    for metric in analysis.metrics:
        try:
            value = query(base_url, promql(metric, service, namespace, env))
        except (requests.RequestException, KeyError, ValueError, IndexError) as exc:
            readings.append(Reading(metric.name, None, _bound(metric), False,
                                    f"Prometheus did not answer: {exc.__class__.__name__}"))
            continue
        readings.append(judge(metric, value))
    return readings
