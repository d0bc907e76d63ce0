"""The webhooks' fast lane: a new, well-formed, authenticated GitLab push or Alertmanager notification is
accepted here, in plain WSGI, before Flask builds its request, app context and response for it.

Flask's machinery costs about 150 µs of a 400 µs webhook request (bench/ingest_profile.py; issue #18),
as much as everything Dockyard does for it. The lane takes only the accepted path, with the same
checks and the same one-round-trip writes as the Flask views (handlers.gitlab.accept,
handlers.alerts.accept); whatever is not plainly accepted goes on to Flask untouched, which answers
it as always: refusals, malformed or ignored payloads, duplicates, a refused body, and every request
while DOCKYARD_REDIS_WAIT_REPLICAS asks for replicas. When Redis fails during the lane's write, the
request goes on to Flask with that error (FAILED), so it is answered 503 like any Redis failure and
never written twice.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from redis.exceptions import RedisError

from core import logs
from core.runtime import Runtime
from handlers import limits

FAILED = "dockyard.lane_failed"  # environ key: the RedisError the lane met, for the Flask view to raise
Accept = Callable[[Runtime, dict[str, Any], bytes], dict | None]


class Lane:
    """WSGI middleware between BoundedBody and Flask (handlers.app)."""

    def __init__(self, app: limits.WSGIApp, rt: Runtime):
        from handlers import alerts, gitlab  # they import this module (raise_lane_failure)

        self.app, self.rt = app, rt
        self.routes: dict[str, Accept] = {"/webhooks/gitlab": gitlab.accept, "/webhooks/alertmanager": alerts.accept}

    def __call__(self, environ: limits.Environ, start_response: limits.StartResponse) -> Iterable[bytes]:
        accept = self.routes.get(environ.get("PATH_INFO", ""))
        stream = environ.get("wsgi.input")
        # BoundedBody buffered the body (a BytesIO) unless it refused it or there was none: only then can the
        # request still go on to Flask with its body unread
        if (accept is None or environ.get("REQUEST_METHOD") != "POST" or not isinstance(stream, io.BytesIO)
                or limits.refusal(environ) or self.rt.settings.redis_wait_replicas):
            return self.app(environ, start_response)
        body = stream.getvalue()
        if len(body) > limits.MAX_BODY or environ.get("CONTENT_LENGTH") != str(len(body)):
            return self.app(environ, start_response)  # too large, or not all of it: Flask says which (413, 400)
        request_id = environ.get("HTTP_X_REQUEST_ID", "")[:64] or logs.new_request_id()
        token = logs.request_id.set(request_id)
        try:
            answer = accept(self.rt, environ, body)
        except RedisError as exc:
            environ[FAILED] = exc
            answer = None
        except Exception:  # noqa: BLE001 - whatever the lane did not expect, Flask answers (a 4xx with the reason)
            answer = None
        finally:
            logs.request_id.reset(token)
        if answer is None:
            stream.seek(0)
            return self.app(environ, start_response)
        body = json.dumps(answer).encode()
        start_response("202 ACCEPTED", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                        ("X-Request-Id", request_id)])
        return [body]


def raise_lane_failure(environ: limits.Environ) -> None:
    """In a Flask view: the Redis error the lane met on this request, raised (answered 503), not retried."""
    failed = environ.get(FAILED)
    if failed is not None:
        raise failed
