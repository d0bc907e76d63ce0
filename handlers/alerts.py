"""POST /webhooks/alertmanager: Alertmanager's webhook (version 4), authenticated, queued in milliseconds."""

from __future__ import annotations

import base64
import json
import logging

from flask import Blueprint, current_app, jsonify, request

from bots.alert_messages import parse
from core import audit, logs
from core.runtime import Runtime
from handlers.auth import refuse_unless
from jobs.queues import enqueue

bp = Blueprint("alerts", __name__)
log = logging.getLogger("dockyard.alerts")


def _credential(header: str) -> str:
    """The token from `Bearer <token>`, or the password from `Basic base64(user:password)`."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


@bp.post("/webhooks/alertmanager")
def webhook():
    """One notification of one alert group."""
    rt: Runtime = current_app.extensions["dockyard"]
    refusal = refuse_unless(rt.settings.alertmanager_webhook_token,
                            _credential(request.headers.get("Authorization", "")), "Alertmanager",
                            "ALERTMANAGER_WEBHOOK_TOKEN", "bearer token or basic-auth password")
    if refusal:
        return refusal
    try:
        payload = json.loads(request.get_data() or b"null")
        group = parse(payload)
    except ValueError as exc:
        return jsonify(error=f"malformed Alertmanager payload: {exc}"), 400
    job = enqueue(rt.redis, rt.settings, "notify", "jobs.alerts.notify", "alert", payload=payload)
    audit.record(rt.redis, audit.Entry("alertmanager", "alertmanager", f"{group.status} {group.group_key}"[:200],
                                       group.common_labels.get("alertname", ""), "accepted", logs.request_id.get()))
    return jsonify(queued=job.id, alerts=len(group.alerts)), 202
