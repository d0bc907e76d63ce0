"""POST /feishu/events: the Dockyard app's event subscription. Commands sent to its bot
(im.message.receive_v1) and clicks on its cards' buttons (card.action.trigger) each run as the
person Feishu names: the sender, or whoever clicked.

With FEISHU_ENCRYPT_KEY, Feishu encrypts every body and signs every event (X-Lark-Signature over
timestamp, nonce, key and body). With FEISHU_VERIFICATION_TOKEN alone, the token inside the body is
all there is: whoever learns it can forge events, so set the Encrypt Key. Either way each event id
and message id is accepted once, and only while the event is fresh. Feishu's answer to an event
cannot carry a message: a refused command is answered in the chat at once (through the outbox, no
job of its own), a refused click as a toast on the card.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from flask import Blueprint, current_app, jsonify, request

from bots.feishu import sign
from bots.feishu.sink import FeishuSink
from bots.pipeline import ChatRequest, submit
from bots.plaintext import to_text
from core.config import Settings
from core.once import first_time
from core.runtime import Runtime
from rules import policy

bp = Blueprint("feishu", __name__)
log = logging.getLogger("dockyard.feishu")
MENTION = re.compile(r"^\s*(@\S+\s*)+")  # Feishu writes mentions as @_user_1 keys
TOAST_CHARS = 500


def command_text(content: str) -> str:
    """The command in a message: the text with the leading @mentions removed."""
    return MENTION.sub("", content or "").strip()


def _missing(settings: Settings) -> list[str]:
    missing = [n for n in ("FEISHU_APP_ID", "FEISHU_APP_SECRET") if getattr(settings, n.lower()) is None]
    if settings.feishu_encrypt_key is None and settings.feishu_verification_token is None:
        missing.append("FEISHU_ENCRYPT_KEY (or FEISHU_VERIFICATION_TOKEN)")
    return missing


def _token_ok(settings: Settings, token: object) -> bool:
    expected = settings.feishu_verification_token
    if expected is None:
        return True
    return isinstance(token, str) and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())


def _refuse(status: int, reason: str):  # type: ignore[no-untyped-def]
    log.warning("refused a Feishu event: %s", reason)
    return jsonify(error=reason), status


def _opened(settings: Settings, raw: bytes) -> tuple[dict | None, tuple[int, str]]:
    """The event as Feishu meant it (decrypted, signature checked), or (None, (status, reason))."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None, (400, "body is not JSON")
    if not isinstance(body, dict):
        return None, (400, "body is not a JSON object")
    key = settings.feishu_encrypt_key
    if key is None:
        if "encrypt" in body:
            return None, (400, "the event is encrypted but FEISHU_ENCRYPT_KEY is not set")
        return body, (200, "")
    if not isinstance(body.get("encrypt"), str):
        return None, (400, "FEISHU_ENCRYPT_KEY is set, so Feishu encrypts every event; this one is not")
    try:
        event = json.loads(sign.decrypt(key.get_secret_value(), body["encrypt"]))
    except (sign.CryptoError, ValueError):
        return None, (401, "the body does not decrypt with FEISHU_ENCRYPT_KEY")
    if not isinstance(event, dict):
        return None, (400, "the decrypted event is not a JSON object")
    if event.get("type") != "url_verification":  # Feishu signs events, not its URL check
        problem = sign.verify_event(request.headers.get("X-Lark-Request-Timestamp"),
                                    request.headers.get("X-Lark-Request-Nonce"),
                                    request.headers.get("X-Lark-Signature"), key.get_secret_value(), raw)
        if problem:
            return None, (401, f"signature refused: {problem}")
    return event, (200, "")


@bp.post("/feishu/events")
def events():
    """Feishu's URL check, a message to Dockyard's bot, or a click on one of its cards."""
    rt = current_app.extensions["dockyard"]
    missing = _missing(rt.settings)
    if missing:
        return jsonify(error=f"Feishu is not configured here: set {', '.join(missing)}"), 503
    event, (status, reason) = _opened(rt.settings, request.get_data())
    if event is None:
        return _refuse(status, reason)
    if event.get("type") == "url_verification":
        if not _token_ok(rt.settings, event.get("token")):
            return _refuse(401, "token does not match FEISHU_VERIFICATION_TOKEN")
        return jsonify(challenge=str(event.get("challenge", "")))
    header = event.get("header")
    if event.get("schema") != "2.0" or not isinstance(header, dict) or not isinstance(event.get("event"), dict):
        return _refuse(400, "not a Feishu event in format 2.0 (schema, header, event)")
    if not _token_ok(rt.settings, header.get("token")):
        return _refuse(401, "token does not match FEISHU_VERIFICATION_TOKEN")
    if rt.settings.feishu_encrypt_key is None:  # nothing signed the request's time: the event's own must be fresh
        created = str(header.get("create_time") or "")
        problem = sign.fresh(created[:-3] if created.isdigit() and len(created) > 3 else created)
        if problem:
            return _refuse(401, f"create_time: {problem}")
    handler = {"im.message.receive_v1": _message, "card.action.trigger": _click}.get(header.get("event_type"))
    if handler is None:
        return jsonify({})  # subscribed to more than Dockyard uses: nothing to do
    return handler(rt, header, event["event"])


def _replayed(rt: Runtime, header: dict, message_id: object):  # type: ignore[no-untyped-def]
    """A 409 for an event (or message) already received, else None. Checked last: a malformed event uses up nothing."""
    event_id = header.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return _refuse(400, "the event has no header.event_id")
    if not first_time(rt.redis, "feishu-event", event_id, sign.REPLAY_WINDOW_S):
        return _refuse(409, f"replayed: event {event_id[:64]} was already received")
    if isinstance(message_id, str) and message_id and \
            not first_time(rt.redis, "feishu-msg", message_id, sign.REPLAY_WINDOW_S):
        return _refuse(409, f"replayed: message {message_id[:64]} was already received")
    return None


def _chat_id(rt: Runtime, ids: dict) -> str:
    """The sender's id as rules/policy.yaml names them: an open_id (ou_…), else the tenant's user_id."""
    open_id, user_id = ids.get("open_id"), ids.get("user_id")
    if isinstance(user_id, str) and user_id and not user_id.startswith("ou_") and \
            not policy.resolve(rt.rules, "feishu", open_id).known and policy.resolve(rt.rules, "feishu", user_id).known:
        return user_id
    return open_id


def _message(rt: Runtime, header: dict, event: dict):  # type: ignore[no-untyped-def]
    sender, message = event.get("sender") or {}, event.get("message") or {}
    if sender.get("sender_type") != "user" or message.get("message_type") != "text":
        return jsonify({})  # other bots, the app itself, pictures and files: nothing to run
    ids, chat = sender.get("sender_id") or {}, message.get("chat_id")
    try:
        text = json.loads(message.get("content") or "")["text"]
    except (ValueError, TypeError, KeyError):
        text = None
    if not isinstance(ids.get("open_id"), str) or not isinstance(chat, str) or not chat.startswith("oc_") \
            or not isinstance(text, str):
        return _refuse(400, "the message has no sender open_id, chat_id or text content")
    replayed = _replayed(rt, header, message.get("message_id"))
    if replayed:
        return replayed
    outcome = submit(rt, ChatRequest("feishu", _chat_id(rt, ids), command_text(text), {"sink": "feishu", "chat": chat}))
    if not outcome.accepted:  # at once, in the same chat; the outbox keeps the chat's quota
        FeishuSink(rt.redis, rt.settings).post({"sink": "feishu", "chat": chat}, outcome.message)
    return jsonify({})


def _click(rt: Runtime, header: dict, event: dict):  # type: ignore[no-untyped-def]
    operator, action, context = (event.get(k) or {} for k in ("operator", "action", "context"))
    command = (action.get("value") or {}).get("command") if isinstance(action.get("value"), dict) else None
    chat = context.get("open_chat_id")
    if not isinstance(operator.get("open_id"), str) or not isinstance(command, str) or \
            not isinstance(chat, str) or not chat.startswith("oc_"):
        return _refuse(400, "the click has no operator open_id, command value or open_chat_id")
    replayed = _replayed(rt, header, None)
    if replayed:
        return replayed
    # The card's button carries a command; whoever clicked runs it as themselves.
    outcome = submit(rt, ChatRequest("feishu", _chat_id(rt, operator), command, {"sink": "feishu", "chat": chat}))
    kind = "info" if outcome.accepted else "error"
    return jsonify(toast={"type": kind, "content": to_text(outcome.message)[:TOAST_CHARS]})
