"""POST /webhooks/alertmanager: Alertmanager's webhook (version 4), authenticated, parsed into an
AlertGroup here at the edge, queued in milliseconds."""

from __future__ import annotations

import base64
import hmac
import json
import logging

from flask import Blueprint, Response, current_app, jsonify, request

from bots.alert_messages import Alert, AlertGroup
from core import audit, durable, logs
from core.runtime import Runtime
from handlers.auth import refuse_unless
from handlers.counting import counted_request
from handlers.lane import raise_lane_failure
from jobs.prepared import prepared
from jobs.queues import DEFAULT_TIMEOUT

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


def _labels(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{where} must be an object of strings")
    return value


def group_dict(payload: object) -> dict:
    """The webhook body as the notify job's data (AlertGroup.to_dict()'s shape, built without the dataclasses
    on the hot path); ValueError names the first thing that is wrong."""
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    if str(payload.get("version")) != "4":
        raise ValueError(f"version {payload.get('version')!r} is not 4")
    for key in ("groupKey", "status", "receiver"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            raise ValueError(f"missing field {key}")
    if payload["status"] not in ("firing", "resolved"):
        raise ValueError(f"status {payload['status']!r} is neither firing nor resolved")
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise ValueError("alerts must be a non-empty list")
    alerts = []
    for index, raw in enumerate(raw_alerts):
        if not isinstance(raw, dict) or raw.get("status") not in ("firing", "resolved"):
            raise ValueError(f"alerts[{index}] needs a status of firing or resolved")
        alerts.append({"status": raw["status"], "labels": _labels(raw.get("labels", {}), f"alerts[{index}].labels"),
                       "annotations": _labels(raw.get("annotations", {}), f"alerts[{index}].annotations"),
                       "starts_at": str(raw.get("startsAt", "")), "ends_at": str(raw.get("endsAt", "")),
                       "generator_url": str(raw.get("generatorURL", "")),
                       "fingerprint": str(raw.get("fingerprint", ""))})
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or truncated < 0:
        raise ValueError("truncatedAlerts must be a whole number")
    return {"group_key": payload["groupKey"], "status": payload["status"], "receiver": payload["receiver"],
            "group_labels": _labels(payload.get("groupLabels", {}), "groupLabels"),
            "common_labels": _labels(payload.get("commonLabels", {}), "commonLabels"),
            "common_annotations": _labels(payload.get("commonAnnotations", {}), "commonAnnotations"),
            "external_url": str(payload.get("externalURL", "")), "truncated": truncated, "alerts": tuple(alerts)}


def parse(payload: object) -> AlertGroup:
    """The webhook body as an AlertGroup; ValueError names the first thing that is wrong."""
    return AlertGroup.from_dict(group_dict(payload))


def queue(rt: Runtime, group: dict) -> str:
    """Queue the group's notify job, with its audit entry and counters, in one round trip; the job id."""
    writes = durable.Writes()
    job = prepared(rt.redis, rt.settings, "notify", "jobs.alerts.notify", "alert", DEFAULT_TIMEOUT).add(
        writes, group=group)
    audit.record_in(writes, audit.Entry("alertmanager", "alertmanager", f"{group['status']} {group['group_key']}"[:200],
                                        group["common_labels"].get("alertname", ""), "accepted", logs.request_id.get()))
    counted_request(writes, "/webhooks/alertmanager", 202)
    durable.commit(rt.redis, writes, replicas=rt.settings.redis_wait_replicas)
    return job


def accept(rt: Runtime, environ: dict, body: bytes) -> dict | None:
    """The fast lane's path (handlers.lane): the 202 answer for a group it queued, else None and nothing written
    (the view below then answers: refusals, bad payloads)."""
    expected = rt.settings.alertmanager_webhook_token
    if expected is None or not hmac.compare_digest(_credential(environ.get("HTTP_AUTHORIZATION", "")).encode(),
                                                   expected.get_secret_value().encode()):
        return None
    try:
        group = group_dict(json.loads(body))
    except ValueError:
        return None
    answer = {"alerts": len(group["alerts"])}
    return {"queued": queue(rt, group), **answer}  # its one round trip is the last thing that happens


@bp.post("/webhooks/alertmanager")
def webhook():
    """One notification of one alert group."""
    raise_lane_failure(request.environ)
    rt: Runtime = current_app.extensions["dockyard"]
    refusal = refuse_unless(rt.settings.alertmanager_webhook_token,
                            _credential(request.headers.get("Authorization", "")), "Alertmanager",
                            "ALERTMANAGER_WEBHOOK_TOKEN", "bearer token or basic-auth password")
    if refusal:
        return refusal
    try:
        group = group_dict(json.loads(request.get_data() or b"null"))
    except ValueError as exc:
        return jsonify(error=f"malformed Alertmanager payload: {exc}"), 400
    job = queue(rt, group)
    # built directly: Flask's jsonify (sorted keys, app lookups) cost more than the rest of the answer
    return Response(json.dumps({"queued": job, "alerts": len(group["alerts"])}), 202, mimetype="application/json")
