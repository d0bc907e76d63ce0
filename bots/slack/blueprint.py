"""POST /slack/events: the Flask edge of the bolt app (slash commands, buttons, events)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from slack_bolt.adapter.flask import SlackRequestHandler

from bots.slack import verify

bp = Blueprint("slack", __name__)
log = logging.getLogger("dockyard.slack")


@bp.post("/slack/events")
def events():
    """Slack's one request URL for commands, interactivity and events."""
    handler: SlackRequestHandler | None = current_app.extensions.get("dockyard.slack")
    if handler is None:
        return jsonify(error="Slack is not configured here: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN"), 503
    rt = current_app.extensions["dockyard"]
    signature = request.headers.get("X-Slack-Signature")
    refused = verify.problem(rt.settings.slack_signing_secret.get_secret_value(), request.get_data(),
                             request.headers.get("X-Slack-Request-Timestamp"), signature)
    if refused:
        log.warning("refused a Slack request: %s", refused)
        return jsonify(error=refused), 401
    if verify.replayed(rt.redis, signature or ""):
        log.warning("refused a Slack request: its signature was already used")
        return jsonify(error="replayed: this signed request was already received"), 401
    return handler.handle(request)
