"""POST /dingtalk/callback: the enterprise robot's outgoing messages, signed by DingTalk.

DingTalk's sign covers only the timestamp and the app secret, not the body,
so a captured header pair could carry any sender and command: each pair, and
each msgId, is accepted once within the sign's window, and replies go only to
DingTalk's own hosts (DINGTALK_REPLY_ORIGINS).

A command from a group, where the app's cards are set up, is answered with a card in that group
(its openConversationId in reply_to), so a rollout's progress there is one card updated in place.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, jsonify, request

from bots.dingtalk import cards, markdown, sign
from bots.dingtalk.address import CONVERSATION_ID
from bots.dingtalk.sink import reply_refused
from bots.pipeline import ChatRequest, submit
from core.once import first_time

bp = Blueprint("dingtalk", __name__)
log = logging.getLogger("dockyard.dingtalk")
MENTION = re.compile(r"^\s*(@\S+\s*)+")


def command_text(content: str) -> str:
    """The command in a group message: the text with the leading @mentions removed."""
    return MENTION.sub("", content or "").strip()


GROUP_CHAT = "2"  # the callback's conversationType for a group ("1" is a one-to-one chat)


def reply_to(body: dict, with_cards: bool) -> dict:
    """Where the job answers: the sessionWebhook, or, from a group where cards are set up, a card there."""
    target = {"sink": "dingtalk", "session_webhook": body["sessionWebhook"], "staff": body["senderStaffId"]}
    conversation = body.get("conversationId")
    if with_cards and str(body.get("conversationType")) == GROUP_CHAT and isinstance(conversation, str) \
            and CONVERSATION_ID.fullmatch(conversation):
        target["conversation"] = conversation
    return target


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
    problem = reply_refused(body["sessionWebhook"], rt.settings.dingtalk_reply_origins)
    if problem:
        log.warning("refused a DingTalk callback: sessionWebhook %s", problem)
        return jsonify(error=f"sessionWebhook {problem}"), 400
    # Checked last, so a malformed body does not use up a genuine header pair.
    if not first_time(rt.redis, "dingtalk-sign", f"{request.headers['timestamp']}\n{request.headers['sign']}",
                      sign.REPLAY_WINDOW_S):
        log.warning("refused a DingTalk callback: its timestamp and sign were already used")
        return jsonify(error="replayed: this timestamp and sign were already used"), 401
    msg_id = body.get("msgId")
    if isinstance(msg_id, str) and msg_id and not first_time(rt.redis, "dingtalk-msg", msg_id,
                                                              sign.REPLAY_WINDOW_S):
        return jsonify(error=f"replayed: message {msg_id[:64]} was already received"), 409
    outcome = submit(rt, ChatRequest("dingtalk", body["senderStaffId"], command_text(content),
                                     reply_to(body, cards.configured(rt.settings))))
    if outcome.accepted:
        return jsonify(msgtype="empty")  # the job answers through the sessionWebhook
    return jsonify(markdown.payload(outcome.message))  # refusals answer in the callback's own response
