"""DingTalk's signatures: Base64(HmacSHA256(secret, timestamp + "\\n" + secret)). Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

MAX_SKEW_MS = 3600 * 1000  # DingTalk's own limit for callback timestamps


def sign(timestamp_ms: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(timestamp_ms: str | None, signature: str | None, secret: str, now_ms: int | None = None) -> str | None:
    """None when the callback is genuine and fresh, else the reason it is not."""
    if not timestamp_ms or not signature:
        return "missing timestamp or sign header"
    if not timestamp_ms.isdigit():
        return "timestamp is not milliseconds since the epoch"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp_ms)) > MAX_SKEW_MS:
        return "timestamp is more than one hour away"
    if not hmac.compare_digest(sign(timestamp_ms, secret), signature):
        return "sign does not match"
    return None


def signed_url(webhook: str, secret: str, now_ms: int | None = None) -> str:
    """A custom robot's webhook URL with its timestamp and sign query parameters."""
    timestamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
    query = urllib.parse.urlencode({"timestamp": timestamp, "sign": sign(timestamp, secret)})
    return f"{webhook}{'&' if '?' in webhook else '?'}{query}"
