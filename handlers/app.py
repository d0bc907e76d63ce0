"""The Flask application factory: every webhook and chat endpoint is a blueprint here."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from core import logs, metrics, runtime
from core.config import Settings
from core.runtime import Runtime

MAX_BODY = 1024 * 1024  # GitLab and Alertmanager payloads above this are refused with 413

log = logging.getLogger("dockyard.web")


def create_app(settings: Settings | None = None, rt: Runtime | None = None) -> Flask:
    """Build the web app; bad configuration or rules stop it here, with the reason."""
    rt = runtime.install(rt or runtime.build(settings))
    logs.setup(rt.settings.log_level, "web")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["dockyard"] = rt

    from bots.dingtalk import callback as dingtalk
    from bots.slack import blueprint as slack
    from handlers import actions, alerts, gitlab, health

    app.register_blueprint(health.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(gitlab.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(slack.bp)
    app.register_blueprint(dingtalk.bp)
    if rt.settings.slack_signing_secret and rt.settings.slack_bot_token:
        from slack_bolt.adapter.flask import SlackRequestHandler

        from bots.slack.app import build

        app.extensions["dockyard.slack"] = SlackRequestHandler(build(rt))

    @app.errorhandler(413)
    def _too_large(_error):  # type: ignore[no-untyped-def]
        from flask import jsonify
        return jsonify(error=f"body larger than {MAX_BODY} bytes"), 413

    @app.before_request
    def _start() -> None:
        g.started = time.monotonic()
        logs.request_id.set(request.headers.get("X-Request-Id", "")[:64] or logs.new_request_id())

    @app.after_request
    def _finish(response):  # type: ignore[no-untyped-def]
        response.headers["X-Request-Id"] = logs.request_id.get()
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        try:
            metrics.inc(rt.redis, "dockyard_http_requests", endpoint=endpoint, method=request.method,
                        status=str(response.status_code))
        except Exception:  # metrics must never break a response; /readyz reports Redis
            log.debug("metrics unavailable", exc_info=True)
        return response

    return app
