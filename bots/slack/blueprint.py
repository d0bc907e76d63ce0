"""POST /slack/events: the Flask edge of the bolt app (slash commands, buttons, events)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from slack_bolt.adapter.flask import SlackRequestHandler

bp = Blueprint("slack", __name__)


@bp.post("/slack/events")
def events():
    """Slack's one request URL for commands, interactivity and events."""
    handler: SlackRequestHandler | None = current_app.extensions.get("dockyard.slack")
    if handler is None:
        return jsonify(error="Slack is not configured here: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN"), 503
    return handler.handle(request)
