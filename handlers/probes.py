"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError

from bots.sinks import outbox
from core.metrics import RedisCollector

bp = Blueprint("probes", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to take traffic: Redis answers and rules are loaded."""
    rt = current_app.extensions["dockyard"]
    reasons = []
    try:
        rt.redis.ping()
    except RedisError as exc:
        reasons.append(f"redis unreachable: {exc}")
    if rt.rules is None or not rt.rules.catalog.services:
        reasons.append("rules not loaded")
    if reasons:
        return jsonify(ready=False, reasons=reasons), 503
    return jsonify(ready=True, services=len(rt.rules.catalog.services))


@bp.get("/metrics")
def metrics_endpoint():
    """Prometheus text format, summed over every Dockyard process."""
    rt = current_app.extensions["dockyard"]
    registry = CollectorRegistry()
    registry.register(RedisCollector(rt.redis, gauges={"dockyard_outbox_backlog": outbox.backlog}))
    try:
        body = generate_latest(registry)
    except RedisError as exc:
        return Response(f"# metrics unavailable: redis unreachable: {exc}\n", status=503, mimetype="text/plain")
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
