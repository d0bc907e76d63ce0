"""POST /dingtalk/callback: the enterprise robot's outgoing messages, signed by DingTalk."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, jsonify, request

from bots.dingtalk import render, sign
from bots.pipeline import ChatRequest, submit

bp = Blueprint("dingtalk", __name__)
log = logging.getLogger("dockyard.dingtalk")
MENTION = re.compile(r"^\s*(@\S+\s*)+")


def command_text(content: str) -> str:
    """The command in a group message: the text with the leading @mentions removed."""
    return MENTION.sub("", content or "").strip()


@bp.post("/dingtalk/callback")
def callback():
    """A command @-mentioned to the robot in a DingTalk group."""
    rt = current_app.extensions["dockyard"]
    secret = rt.settings.dingtalk_app_secret
    if secret is None:
        return jsonify(error="DingTalk is not configured here: set DINGTALK_APP_SECRET"), 503
    problem = sign.verify(request.headers.get("timestamp"), request.headers.get("sign"), secret.get_secret_value())
    if problem:
        log.warning("refused a DingTalk callback: %s", problem)
        return jsonify(error=f"signature refused: {problem}"), 401
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="body is not a JSON object"), 400
    missing = [k for k in ("senderStaffId", "sessionWebhook") if not isinstance(body.get(k), str) or not body[k]]
    content = (body.get("text") or {}).get("content") if isinstance(body.get("text"), dict) else None
    if not isinstance(content, str):
        missing.append("text.content")
    if missing:
        return jsonify(error=f"missing field(s): {', '.join(missing)}"), 400
    outcome = submit(rt, ChatRequest("dingtalk", body["senderStaffId"], command_text(content),
                                     {"sink": "dingtalk", "session_webhook": body["sessionWebhook"],
                                      "staff": body["senderStaffId"]}))
    if outcome.accepted:
        return jsonify(msgtype="empty")  # the job answers through the sessionWebhook
    return jsonify(render.payload(outcome.message))  # refusals answer in the callback's own response
