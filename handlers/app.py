"""The Flask application factory: every webhook and chat endpoint is a blueprint here."""

from __future__ import annotations

import logging
import time

from flask import Flask, abort, g, jsonify, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from bots.dingtalk import callback as dingtalk
from bots.feishu import events as feishu
from bots.slack import blueprint as slack
from bots.wecom import callback as wecom
from core import logs, metrics, runtime
from core.durable import NotReplicated
from core.config import Settings
from core.runtime import Runtime
from handlers import alerts, gitlab, limits, links, probes
from handlers.counting import already_counted
from handlers.lane import Lane
from handlers.limits import MAX_BODY

# Metric labels come from fixed sets: any client can send any method, and each new label value would be
# a new series in Redis and on every scrape, for ever.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

log = logging.getLogger("dockyard.web")


def create_app(settings: Settings | None = None, rt: Runtime | None = None) -> Flask:
    """Build the web app; bad configuration or rules stop it here, with the reason."""
    rt = runtime.install(rt or runtime.build(settings))
    logs.setup(rt.settings.log_level, "web")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["dockyard"] = rt
    # the webhooks' accepted path skips Flask's request machinery (handlers.lane); the rest reaches Flask as before
    app.wsgi_app = limits.BoundedBody(Lane(app.wsgi_app, rt))  # type: ignore[method-assign]

    for blueprint in (probes.bp, alerts.bp, gitlab.bp, links.bp, slack.bp, dingtalk.bp, wecom.bp, feishu.bp):
        app.register_blueprint(blueprint)
    if rt.settings.slack_signing_secret and rt.settings.slack_bot_token:
        # Only a process with Slack configured loads bolt (and its Web API client).
        from slack_bolt.adapter.flask import SlackRequestHandler

        from bots.slack.app import build

        app.extensions["dockyard.slack"] = SlackRequestHandler(build(rt))

    _refuse_bad_input(app)
    _unavailable_without_redis(app)

    @app.before_request
    def _start() -> None:
        g.started = time.monotonic()
        logs.request_id.set(request.headers.get("X-Request-Id", "")[:64] or logs.new_request_id())
        refused = limits.refusal(request.environ)
        if refused:
            abort(*refused)

    @app.after_request
    def _finish(response):  # type: ignore[no-untyped-def]
        response.headers["X-Request-Id"] = logs.request_id.get()
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in METHODS else "OTHER"
        if already_counted(response.status_code):  # with the request's own writes, in one round trip
            return response
        try:
            metrics.inc(rt.redis, "dockyard_http_requests", endpoint=endpoint, method=method,
                        status=str(response.status_code))
        except Exception:  # metrics must never break a response; /readyz reports Redis
            log.debug("metrics unavailable", exc_info=True)
        return response

    return app


def _refuse_bad_input(app: Flask) -> None:
    """Input that breaks a parser is the client's mistake: a 4xx with the reason, never a 500."""

    @app.errorhandler(400)
    @app.errorhandler(408)
    def _refused(error: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify(error=error.description), error.code

    @app.errorhandler(413)
    def _too_large(_error: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify(error=f"body larger than {MAX_BODY} bytes; Dockyard takes at most 1 MB"), 413

    @app.errorhandler(RecursionError)
    def _too_deep(_error: RecursionError):  # type: ignore[no-untyped-def]
        # json.loads recurses once per nesting level; no webhook or chat payload nests more than a few dozen
        return jsonify(error="the body is nested too deeply to parse; send the payload as the sender made it"), 400

    @app.errorhandler(UnicodeError)
    def _not_text(_error: UnicodeError):  # type: ignore[no-untyped-def]
        return jsonify(error="the request has text Dockyard cannot decode: send headers in ASCII and "
                             "bodies in UTF-8"), 400


REDIS_RETRY_AFTER = 5  # seconds: long enough for a Redis restart or a Sentinel failover to finish


def _unavailable_without_redis(app: Flask) -> None:
    """Redis away: nothing can be accepted durably, so say so (503, Retry-After) and let the sender retry.

    GitLab, Alertmanager and Slack retry a 5xx; a 500 would read as Dockyard's bug and log a traceback.
    """

    @app.errorhandler(RedisError)
    def _no_redis(error: RedisError):  # type: ignore[no-untyped-def]
        log.warning("redis unavailable answering %s: %s", request.path, type(error).__name__)
        if isinstance(error, NotReplicated):  # on the primary, not yet safe: the retry is deduplicated
            text = f"{error}; not accepted yet, retry in {REDIS_RETRY_AFTER}s (a retry is never processed twice)"
        else:
            text = (f"Dockyard's Redis is unreachable ({type(error).__name__}); nothing was accepted, "
                    f"retry in {REDIS_RETRY_AFTER}s")
        response = jsonify(error=text)
        response.headers["Retry-After"] = str(REDIS_RETRY_AFTER)
        return response, 503

