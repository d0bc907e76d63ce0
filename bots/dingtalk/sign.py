"""DingTalk's signatures: Base64(HmacSHA256(secret, timestamp + "\\n" + secret)). Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

MAX_AGE_MS = 3600 * 1000  # DingTalk's own limit for how old a callback timestamp may be
MAX_AHEAD_MS = 60 * 1000  # a timestamp from the future is only clock skew, never an hour
REPLAY_WINDOW_S = (MAX_AGE_MS + MAX_AHEAD_MS) // 1000 + 1  # how long a used (timestamp, sign) pair is remembered


def sign(timestamp_ms: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(timestamp_ms: str | None, signature: str | None, secret: str, now_ms: int | None = None) -> str | None:
    """None when the callback is genuine and fresh, else the reason it is not."""
    if not timestamp_ms or not signature:
        return "missing timestamp or sign header"
    if not (timestamp_ms.isascii() and timestamp_ms.isdigit() and len(timestamp_ms) <= 15):
        return "timestamp is not milliseconds since the epoch"
    if not signature.isascii():
        return "sign is not Base64"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if now_ms - int(timestamp_ms) > MAX_AGE_MS:
        return "timestamp is more than one hour old"
    if int(timestamp_ms) - now_ms > MAX_AHEAD_MS:
        return "timestamp is in the future; check this host's clock"
    if not hmac.compare_digest(sign(timestamp_ms, secret).encode(), signature.encode()):
        return "sign does not match"
    return None


def signed_url(webhook: str, secret: str, now_ms: int | None = None) -> str:
    """A custom robot's webhook URL with its timestamp and sign query parameters."""
    timestamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
    query = urllib.parse.urlencode({"timestamp": timestamp, "sign": sign(timestamp, secret)})
    return f"{webhook}{'&' if '?' in webhook else '?'}{query}"
