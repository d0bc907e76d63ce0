"""Slack's request signature, checked before bolt sees the request: well-formed, fresh, genuine, and new.

Bolt checks the signature too, but a malformed timestamp makes it raise (a
500), and it accepts the same signed request again for five minutes.
"""

from __future__ import annotations

import time

from redis import Redis
from slack_sdk.signature import SignatureVerifier

from core.once import first_time

WINDOW_S = 5 * 60  # Slack's replay window for X-Slack-Request-Timestamp


def problem(secret: str, body: bytes, timestamp: str | None, signature: str | None,
            now: float | None = None) -> str | None:
    """Why the request is not a genuine, fresh Slack request, or None."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "X-Slack-Request-Timestamp is not seconds since the epoch"
    if not (signature.isascii() and signature.startswith("v0=") and len(signature) <= 100):
        return "X-Slack-Signature is not a v0 signature"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > WINDOW_S:
        return "X-Slack-Request-Timestamp is more than five minutes away"
    if not SignatureVerifier(secret).is_valid(body=body, timestamp=timestamp, signature=signature):
        return "X-Slack-Signature does not match SLACK_SIGNING_SECRET"
    return None


def replayed(redis: Redis, signature: str) -> bool:
    """True when this signature was already accepted (a captured request sent again)."""
    return not first_time(redis, "slack-signature", signature, WINDOW_S * 2)
