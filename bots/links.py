"""Signed, expiring action links: a chat button that opens Dockyard and runs one command as one person.

The token binds the command, the channel identity it runs as, where the answer
goes, and an expiry, under HMAC-SHA256 with DOCKYARD_LINK_SECRET: nothing the
link acts on sits outside the signature (no query parameters). A link is a
capability, so it is only ever sent to the one person it names. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make(secret: str, command: str, channel: str, chat_id: str, ttl: int = 3600, now: float | None = None,
         reply_to: dict | None = None) -> str:
    data = {"c": command, "ch": channel, "u": chat_id, "exp": int((now or time.time()) + ttl)}
    if reply_to:
        data["r"] = reply_to
    body = _b64(json.dumps(data, separators=(",", ":")).encode())
    mac = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def read(secret: str, token: str, now: float | None = None) -> dict:
    """The link's {c, ch, u, exp[, r]}; ValueError with the reason when forged, malformed or expired."""
    body, _, mac = token.partition(".")
    if not body or not mac or not token.isascii() or len(token) > 4096:
        raise ValueError("malformed link")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), mac.encode()):
        raise ValueError("this link was not made by this Dockyard")
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        raise ValueError("malformed link") from None
    if not isinstance(data, dict) or not isinstance(data.get("exp"), int):
        raise ValueError("malformed link")
    if data["exp"] < (now or time.time()):
        raise ValueError("this link has expired; use the chat command instead")
    return data
