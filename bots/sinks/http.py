"""The one way a sink talks HTTP to its platform: JSON in and out, no redirects, errors that say whether to retry."""

from __future__ import annotations

import json

import requests

from bots.sinks.base import SinkError

TIMEOUT = 5


def call_json(platform: str, method: str, url: str, payload: dict | None = None, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    """The platform's JSON answer (its own error codes inside) for any HTTP status below 500.

    The body is sent as UTF-8 exactly as the renderers measured it (requests' json= would
    \\u-escape and grow it past a platform's byte limit). A redirect is never followed: a
    message must land on the host that was configured or checked.
    """
    headers = {"Content-Type": "application/json; charset=utf-8", **kwargs.pop("headers", {})}
    data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else kwargs.pop("data", None)
    try:
        response = requests.request(method, url, data=data, headers=headers, timeout=kwargs.pop("timeout", TIMEOUT),
                                    allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise SinkError(f"{platform} did not answer: {exc.__class__.__name__}") from None
    if response.status_code >= 500:
        raise SinkError(f"{platform} answered {response.status_code}")
    if 300 <= response.status_code < 400:
        raise SinkError(f"{platform} answered a redirect ({response.status_code}); not followed", retryable=False)
    try:
        answer = response.json()
    except ValueError:
        raise SinkError(f"{platform} answered {response.status_code} without JSON", retryable=False) from None
    if not isinstance(answer, dict):
        raise SinkError(f"{platform} answered something other than a JSON object", retryable=False)
    return answer
