"""WeCom's callback security (加解密方案). Pure.

msg_signature = SHA1 of the sorted, concatenated [Token, timestamp, nonce, Encrypt], in hex.
Encrypt = Base64(AES-256-CBC(random(16) + len(msg) as 4 bytes big-endian + msg + ReceiveId)) with
key = Base64_Decode(EncodingAESKey + "="), IV = the key's first 16 bytes, and PKCS#7 padding to a
multiple of 32 bytes. For an app's callback the ReceiveId is the corp id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16


class CryptoError(ValueError):
    """A ciphertext or key that is not what WeCom sends."""


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind a 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("EncodingAESKey is not Base64") from None
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes (43 characters)")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def verify(token: str, timestamp: str, nonce: str, encrypt: str, msg_signature: str) -> bool:
    """True when msg_signature is WeCom's signature of these values (compared in constant time)."""
    return hmac.compare_digest(signature(token, timestamp, nonce, encrypt).encode(),
                               msg_signature.encode("utf-8", "surrogateescape"))


def encrypt(key: bytes, msg: bytes, receive_id: str, random16: bytes | None = None) -> str:
    """What WeCom's Encrypt field holds for `msg` (a passive reply is encrypted the same way)."""
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(msg)) + msg + receive_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()


def decrypt(key: bytes, encrypted: str) -> tuple[bytes, str]:
    """(msg, ReceiveId) from an Encrypt field; CryptoError when it is not a WeCom ciphertext for this key."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("Encrypt is not Base64") from None
    if not raw or len(raw) % 16:
        raise CryptoError("Encrypt is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("Encrypt does not decrypt with this EncodingAESKey")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise CryptoError("Encrypt is too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise CryptoError("Encrypt's length field is wrong")
    try:
        receive_id = plain[20 + length:].decode()
    except UnicodeDecodeError:
        raise CryptoError("Encrypt's ReceiveId is not text") from None
    return plain[20:20 + length], receive_id
