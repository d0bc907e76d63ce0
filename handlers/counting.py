"""The request counter, written with a request's own writes when it has some (one round trip, not two)."""

from __future__ import annotations

from flask import g, has_request_context
from redis.client import Pipeline

from core import metrics
from core.durable import Writes


def counted_request(writes: Pipeline | Writes, endpoint: str, status: int, method: str = "POST") -> None:
    """Count this request in `writes` (core.durable); the app's after_request then leaves it alone.

    Only for the status the handler is about to answer: any other answer is counted as usual.
    """
    metrics.inc(writes, "dockyard_http_requests", endpoint=endpoint, method=method, status=str(status))
    if has_request_context():  # the fast lane (handlers.lane) answers without Flask, and without its after_request
        g.counted_status = status


def already_counted(status: int) -> bool:
    """Did the handler count this response itself (with the status it answers)?"""
    return getattr(g, "counted_status", None) == status
