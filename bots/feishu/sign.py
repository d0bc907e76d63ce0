"""Feishu's signatures and event encryption. Pure.

- A custom bot's sign (签名校验): Base64(HmacSHA256(key = timestamp + "\\n" + secret, message = "")),
  with the timestamp in seconds, sent in the JSON body beside it.
- An event's X-Lark-Signature (with an Encrypt Key): hex SHA256 of timestamp + nonce + encrypt key +
  the raw body, from the X-Lark-Request-Timestamp and X-Lark-Request-Nonce headers.
- An encrypted event body {"encrypt": …}: Base64(IV(16) + AES-256-CBC(PKCS#7)), key = SHA256(encrypt key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_AGE_S = 300  # Feishu delivers within seconds; an older event is not run
MAX_AHEAD_S = 60  # a timestamp from the future is only clock skew
REPLAY_WINDOW_S = MAX_AGE_S + MAX_AHEAD_S + 1  # how long a used event id is remembered


class CryptoError(ValueError):
    """An encrypted body that does not decrypt with this Encrypt Key."""


def bot_sign(timestamp_s: str, secret: str) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_body(payload: dict, secret: str | None, now_s: int | None = None) -> dict:
    """A custom bot's request body, with timestamp and sign when the bot has a secret."""
    if not secret:
        return payload
    timestamp = str(int(time.time()) if now_s is None else now_s)
    return {"timestamp": timestamp, "sign": bot_sign(timestamp, secret), **payload}


def event_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256(f"{timestamp}{nonce}{encrypt_key}".encode() + body).hexdigest()


def fresh(timestamp_s: str | None, now: float | None = None) -> str | None:
    """Why a timestamp in seconds is not a fresh one, or None."""
    if not timestamp_s or not (timestamp_s.isascii() and timestamp_s.isdigit() and len(timestamp_s) <= 12):
        return "timestamp is not seconds since the epoch"
    age = (time.time() if now is None else now) - int(timestamp_s)
    if age > MAX_AGE_S:
        return f"timestamp is more than {MAX_AGE_S // 60} minutes old"
    if -age > MAX_AHEAD_S:
        return "timestamp is in the future; check this host's clock"
    return None


def verify_event(timestamp: str | None, nonce: str | None, signature: str | None, encrypt_key: str,
                 body: bytes, now: float | None = None) -> str | None:
    """None when the request is a fresh event signed with this Encrypt Key, else the reason."""
    if not timestamp or not nonce or not signature:
        return "missing X-Lark-Request-Timestamp, X-Lark-Request-Nonce or X-Lark-Signature"
    problem = fresh(timestamp, now)
    if problem:
        return f"X-Lark-Request-{problem}"
    if not hmac.compare_digest(event_signature(timestamp, nonce, encrypt_key, body).encode(),
                               signature.encode("utf-8", "surrogateescape")):
        return "X-Lark-Signature does not match FEISHU_ENCRYPT_KEY"
    return None


def decrypt(encrypt_key: str, encrypted: str) -> bytes:
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("encrypt is not Base64") from None
    if len(raw) < 32 or len(raw) % 16:
        raise CryptoError("encrypt is not an IV and whole AES blocks")
    decryptor = Cipher(algorithms.AES(hashlib.sha256(encrypt_key.encode()).digest()), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize()) + unpadder.finalize()
    except ValueError:
        raise CryptoError("encrypt does not decrypt with FEISHU_ENCRYPT_KEY") from None

