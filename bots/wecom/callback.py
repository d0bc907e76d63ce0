"""GET and POST /wecom/callback: the WeCom app's URL check, and the commands members send the app.

WeCom signs each callback (msg_signature: SHA1 over the Token, timestamp, nonce and the encrypted
body) and encrypts the body with the EncodingAESKey for this corp. A captured request is still
genuine if sent again, so each signature and each MsgId is accepted once, and only while its
timestamp is fresh. Refusals are answered in the response itself (an encrypted passive reply);
accepted commands are answered by their job, through the app (bots/wecom/sink.py).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, request

from bots.pipeline import ChatRequest, submit
from bots.wecom import crypto, markdown
from core.config import Settings
from core.once import first_time

bp = Blueprint("wecom", __name__)
log = logging.getLogger("dockyard.wecom")
MENTION = re.compile(r"^\s*(@\S+\s*)+")
MAX_AGE_S = 300  # WeCom delivers (and retries) within seconds; an older command is not run
MAX_AHEAD_S = 60  # a timestamp from the future is only clock skew
REPLAY_WINDOW_S = MAX_AGE_S + MAX_AHEAD_S + 1  # how long a used signature or MsgId is remembered
REQUIRED = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_ENCODING_AES_KEY")


@dataclass(frozen=True)
class Keys:
    token: str
    key: bytes
    corp: str


def _keys(settings: Settings) -> Keys | None:
    if any(getattr(settings, name.lower()) is None for name in REQUIRED):
        return None
    assert settings.wecom_token and settings.wecom_encoding_aes_key and settings.wecom_corp_id
    return Keys(settings.wecom_token.get_secret_value(),
                crypto.aes_key(settings.wecom_encoding_aes_key.get_secret_value()), settings.wecom_corp_id)


def _not_configured(settings: Settings):  # type: ignore[no-untyped-def]
    missing = [name for name in REQUIRED if getattr(settings, name.lower()) is None]
    return jsonify(error=f"WeCom is not configured here: set {', '.join(missing)}"), 503


def command_text(content: str) -> str:
    """The command in a message: the text with any leading @mentions removed."""
    return MENTION.sub("", content or "").strip()


def _xml(body: bytes) -> ET.Element | None:
    """The XML document, or None; documents that declare entities are refused outright."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        return None


def _signed(keys: Keys, encrypt: str) -> str | None:
    """Why the request's msg_signature, timestamp and nonce do not make it a fresh WeCom callback, or None."""
    signature, timestamp, nonce = (request.args.get(k) for k in ("msg_signature", "timestamp", "nonce"))
    if not signature or not timestamp or not nonce:
        return "missing msg_signature, timestamp or nonce"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "timestamp is not seconds since the epoch"
    if not crypto.verify(keys.token, timestamp, nonce, encrypt, signature):
        return "msg_signature does not match WECOM_TOKEN"
    if request.method == "POST":
        age = time.time() - int(timestamp)
        if age > MAX_AGE_S:
            return f"timestamp is more than {MAX_AGE_S // 60} minutes old"
        if -age > MAX_AHEAD_S:
            return "timestamp is in the future; check this host's clock"
    return None


def _decrypted(keys: Keys, encrypt: str) -> tuple[bytes | None, str]:
    """(plaintext, '') for a ciphertext meant for this corp, else (None, the reason)."""
    try:
        plain, receive_id = crypto.decrypt(keys.key, encrypt)
    except crypto.CryptoError as exc:
        return None, f"{exc}; check WECOM_ENCODING_AES_KEY"
    if not hmac.compare_digest(receive_id.encode(), keys.corp.encode()):
        return None, "encrypted for another corp than WECOM_CORP_ID"
    return plain, ""


@bp.get("/wecom/callback")
def verify_url():
    """WeCom's check when the app's receiving URL is saved: answer the decrypted echostr, exactly."""
    rt = current_app.extensions["dockyard"]
    keys = _keys(rt.settings)
    if keys is None:
        return _not_configured(rt.settings)
    echostr = request.args.get("echostr") or ""
    problem = _signed(keys, echostr) if echostr else "missing echostr"
    if problem:
        log.warning("refused a WeCom URL check: %s", problem)
        return jsonify(error=f"signature refused: {problem}"), 401
    plain, problem = _decrypted(keys, echostr)
    if plain is None:
        log.warning("refused a WeCom URL check: %s", problem)
        return jsonify(error=problem), 401
    return Response(plain, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive():
    """A message a member sent the Dockyard app: a command, run as the member WeCom names."""
    rt = current_app.extensions["dockyard"]
    keys = _keys(rt.settings)
    if keys is None:
        return _not_configured(rt.settings)
    outer = _xml(request.get_data())
    encrypt = outer.findtext("Encrypt") if outer is not None else None
    if not encrypt:
        return jsonify(error="body is not WeCom's XML with an Encrypt element"), 400
    problem = _signed(keys, encrypt)
    if problem:
        log.warning("refused a WeCom callback: %s", problem)
        return jsonify(error=f"signature refused: {problem}"), 401
    plain, problem = _decrypted(keys, encrypt)
    if plain is None:
        log.warning("refused a WeCom callback: %s", problem)
        return jsonify(error=problem), 401
    inner = _xml(plain)
    if inner is None:
        return jsonify(error="the decrypted message is not XML"), 400
    if inner.findtext("MsgType") != "text":
        return Response("", mimetype="text/plain")  # events and media: nothing to run, nothing to answer
    user, content, msg_id = (inner.findtext(k) for k in ("FromUserName", "Content", "MsgId"))
    if not user or content is None:
        return jsonify(error="the message has no FromUserName or Content"), 400
    # Checked last, so a malformed request does not use up a genuine signature.
    if not first_time(rt.redis, "wecom-sign", request.args["msg_signature"], REPLAY_WINDOW_S):
        log.warning("refused a WeCom callback: its signature was already used")
        return jsonify(error="replayed: this signed callback was already received"), 409
    if msg_id and not first_time(rt.redis, "wecom-msg", msg_id, REPLAY_WINDOW_S):
        return jsonify(error=f"replayed: message {msg_id[:64]} was already received"), 409
    outcome = submit(rt, ChatRequest("wecom", user, command_text(content), {"sink": "wecom", "user": user}))
    if outcome.accepted:
        return Response("", mimetype="text/plain")  # the job answers through the app
    return Response(passive_reply(keys, user, markdown.text(outcome.message)), mimetype="application/xml")


def passive_reply(keys: Keys, to_user: str, text: str) -> bytes:
    """An encrypted, signed text reply in the callback's own response."""
    stamp = str(int(time.time()))
    message = ET.Element("xml")
    for tag, value in (("ToUserName", to_user), ("FromUserName", keys.corp), ("CreateTime", stamp),
                       ("MsgType", "text"), ("Content", text)):
        ET.SubElement(message, tag).text = value
    encrypted = crypto.encrypt(keys.key, ET.tostring(message, encoding="unicode").encode(), keys.corp)
    nonce = str(secrets.randbelow(10**10))
    reply = ET.Element("xml")
    for tag, value in (("Encrypt", encrypted), ("MsgSignature", crypto.signature(keys.token, stamp, nonce, encrypted)),
                       ("TimeStamp", stamp), ("Nonce", nonce)):
        ET.SubElement(reply, tag).text = value
    return ET.tostring(reply, encoding="unicode").encode()
