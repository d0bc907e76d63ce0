"""Stand-in for Feishu at the HTTP boundary, and Feishu's side of the event subscription.

Serves custom bot webhooks (/open-apis/bot/v2/hook/<token>: the sign checked the documented way,
timestamps within an hour, request bodies up to 20 KB, 100 a minute and 5 a second per bot, code
11232 beyond), the app's tenant_access_token, and /open-apis/im/v1/messages (cards posted by the
app to the chats it is in, 5 a second per chat, 230020 beyond) and PATCH /open-apis/im/v1/messages/<id>
(the app edits its own shared cards: `config.update_multi` before and after, within 14 days, 5 a
second per message). Every message and every edit is kept: `chat_view` is what a member sees. For the events it encrypts and signs
the way Feishu does, written here from Feishu's published scheme rather than taken from bots/feishu.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from deploy.local.standin import StandIn


class FeishuAPI(StandIn):
    def __init__(self, bots: dict[str, str], app: tuple[str, str], chats: set[str], encrypt_key: str | None = None,
                 verification_token: str | None = None):
        super().__init__()
        self.bots, self.app, self.chats = bots, app, chats  # bot token -> signing secret; (app_id, secret)
        self.encrypt_key, self.verification_token = encrypt_key, verification_token
        self.sent_at: dict[str, list[float]] = {}
        self.tenant_tokens: set[str] = set()
        self.messages: dict[str, dict] = {}  # message_id -> chat, current card, sent_at, edits

    # -- the HTTP API Dockyard calls --------------------------------------------------------------

    def _within(self, who: str, limits: tuple[tuple[int, float], ...]) -> bool:
        now = time.time()
        stamps = [t for t in self.sent_at.get(who, []) if now - t < max(w for _, w in limits)]
        if any(len([t for t in stamps if now - t < window]) >= count for count, window in limits):
            self.sent_at[who] = stamps
            return False
        self.sent_at[who] = stamps + [now]
        return True

    def handle(self, method, path, query, headers, body):
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return 400, {"code": 9499, "msg": "Bad Request: body is not JSON"}
        if path.startswith("/open-apis/bot/v2/hook/") and method == "POST":
            return self._bot(path.rsplit("/", 1)[-1], payload, body)
        if path == "/open-apis/auth/v3/tenant_access_token/internal" and method == "POST":
            if (payload.get("app_id"), payload.get("app_secret")) != self.app:
                return 400, {"code": 10014, "msg": "app secret invalid"}
            token = f"t-{uuid.uuid4().hex}"
            self.tenant_tokens.add(token)
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}
        if path == "/open-apis/im/v1/messages" and method == "POST":
            return self._app(query, headers, payload, body)
        if path.startswith("/open-apis/im/v1/messages/") and method == "PATCH":
            return self._patch(path.rsplit("/", 1)[-1], headers, payload, body)
        return 404, {"code": 404, "msg": f"no {method} {path}"}

    def _bot(self, token: str, payload: dict, body: bytes):
        if token not in self.bots:
            return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        secret = self.bots[token]
        if secret:
            stamp, given = str(payload.get("timestamp", "")), str(payload.get("sign", ""))
            key = f"{stamp}\n{secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if not stamp.isdigit() or abs(time.time() - int(stamp)) > 3600 or not hmac.compare_digest(expected, given):
                self.record(kind="refused", token=token)
                return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        if len(body) > 20 * 1024:
            return 200, {"code": 9499, "msg": "Bad Request: request body exceeds 20 KB"}
        if payload.get("msg_type") != "interactive" or not isinstance(payload.get("card"), dict):
            return 200, {"code": 19002, "msg": "params error, msg_type interactive needs a card"}
        if not self._within(f"bot:{token}", ((100, 60.0), (5, 1.0))):
            self.record(kind="too_fast", token=token)
            return 200, {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}
        self.record(kind="bot", token=token, card=payload["card"], size=len(body))
        return 200, {"code": 0, "msg": "success", "data": {}}

    def _app_card(self, headers, payload: dict, body: bytes) -> tuple[dict | None, tuple[int, dict] | None]:
        """The card an app request (a send or a patch) carries, or Feishu's refusal: token, size, content."""
        bearer = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if bearer not in self.tenant_tokens:
            return None, (400, {"code": 99991663, "msg": "Invalid access token for authorization"})
        if len(body) > 30 * 1024:
            return None, (400, {"code": 230025, "msg": "The length of the message content reaches its limit."})
        try:
            return json.loads(payload.get("content") or ""), None
        except ValueError:
            return None, (400, {"code": 230001, "msg": "invalid content"})

    def _app(self, query, headers, payload: dict, body: bytes):
        card, refused = self._app_card(headers, payload, body)
        if refused:
            return refused
        if (query.get("receive_id_type") or [""])[0] != "chat_id" or payload.get("receive_id") not in self.chats:
            return 400, {"code": 230002, "msg": "The bot can not be outside the group."}
        if payload.get("msg_type") != "interactive" or not isinstance(card, dict):
            return 400, {"code": 230001, "msg": "msg_type interactive needs a card"}
        if not self._within(f"chat:{payload['receive_id']}", ((5, 1.0),)):
            self.record(kind="too_fast", chat=payload["receive_id"])
            return 400, {"code": 230020, "msg": "This operation triggers the frequency limit."}
        message_id = f"om_{uuid.uuid4().hex}"
        self.messages[message_id] = {"chat": payload["receive_id"], "card": card, "sent_at": time.time(), "edits": []}
        self.record(kind="app", chat=payload["receive_id"], card=card, message_id=message_id)
        return 200, {"code": 0, "msg": "success", "data": {"message_id": message_id}}

    def _patch(self, message_id: str, headers, payload: dict, body: bytes):
        card, refused = self._app_card(headers, payload, body)
        if refused:
            return refused
        message = self.messages.get(message_id)
        if message is None:
            return 400, {"code": 230001, "msg": "Your request contains an invalid request parameter: message_id"}
        shared = lambda c: isinstance(c, dict) and (c.get("config") or {}).get("update_multi") is True  # noqa: E731
        if not shared(message["card"]) or not shared(card):
            return 400, {"code": 230099, "msg": "Failed to create card content: only a shared card "
                                                "(config.update_multi: true before and after) can be updated"}
        if time.time() - message["sent_at"] > 14 * 86400:
            self.record(kind="patch_refused", message_id=message_id)
            return 400, {"code": 230031, "msg": "Message can only be modified within 14 days after sending."}
        if not self._within(f"message:{message_id}", ((5, 1.0),)):
            self.record(kind="too_fast", message_id=message_id)
            return 400, {"code": 230020, "msg": "This operation triggers the frequency limit."}
        message["card"] = card
        message["edits"].append(card)
        self.record(kind="patch", message_id=message_id, card=card)
        return 200, {"code": 0, "msg": "success", "data": {}}

    def age(self, message_id: str, seconds: float) -> None:
        """Make a message look as if it was sent `seconds` ago."""
        self.messages[message_id]["sent_at"] = time.time() - seconds

    def chat_view(self, chat: str) -> list[dict]:
        """The app's messages in a chat as a member sees them: each with its current card and its edits."""
        return [{"message_id": mid, **m} for mid, m in self.messages.items() if m["chat"] == chat]

    def cards(self, kind: str) -> list[dict]:
        return [c["card"] for c in self.calls if c["kind"] == kind]

    # -- Feishu's side of the event subscription --------------------------------------------------------

    def _encrypt(self, plain: bytes) -> str:
        assert self.encrypt_key is not None
        iv, padder = os.urandom(16), padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(hashlib.sha256(self.encrypt_key.encode()).digest()), modes.CBC(iv)).encryptor()
        return base64.b64encode(iv + encryptor.update(padder.update(plain) + padder.finalize())
                                + encryptor.finalize()).decode()

    def request(self, event: dict, *, sign: bool = True, timestamp: int | None = None,
                key: str | None = None) -> tuple[dict[str, str], bytes]:
        """Headers and body of one delivery: encrypted and signed when the app has an Encrypt Key."""
        if self.encrypt_key is None:
            return {"Content-Type": "application/json"}, json.dumps(event).encode()
        body = json.dumps({"encrypt": self._encrypt(json.dumps(event).encode())}).encode()
        headers = {"Content-Type": "application/json"}
        if sign:
            stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), uuid.uuid4().hex
            digest = hashlib.sha256(f"{stamp}{nonce}{key or self.encrypt_key}".encode() + body).hexdigest()
            headers.update({"X-Lark-Request-Timestamp": stamp, "X-Lark-Request-Nonce": nonce,
                            "X-Lark-Signature": digest})
        return headers, body

    def _header(self, event_type: str, created_ms: int | None) -> dict:
        return {"event_id": uuid.uuid4().hex, "event_type": event_type, "token": self.verification_token or "",
                "create_time": str(int(time.time() * 1000) if created_ms is None else created_ms),
                "tenant_key": "tenant", "app_id": self.app[0]}

    def message(self, open_id: str, text: str, chat: str, *, user_id: str | None = None,
                created_ms: int | None = None, message_id: str | None = None) -> dict:
        """An im.message.receive_v1 event: someone @-mentioned Dockyard's bot in a chat."""
        return {"schema": "2.0", "header": self._header("im.message.receive_v1", created_ms), "event": {
            "sender": {"sender_id": {"open_id": open_id, "user_id": user_id, "union_id": "on_x"},
                       "sender_type": "user", "tenant_key": "tenant"},
            "message": {"message_id": message_id or f"om_{uuid.uuid4().hex}", "chat_id": chat, "chat_type": "group",
                        "message_type": "text", "content": json.dumps({"text": f"@_user_1 {text}"}),
                        "create_time": str(int(time.time() * 1000)),
                        "mentions": [{"key": "@_user_1", "name": "Dockyard", "id": {"open_id": "ou_bot"}}]}}}

    def click(self, open_id: str, command: str, chat: str) -> dict:
        """A card.action.trigger callback: someone clicked a button on one of the app's cards."""
        return {"schema": "2.0", "header": self._header("card.action.trigger", None), "event": {
            "operator": {"open_id": open_id, "tenant_key": "tenant"}, "token": "c-token",
            "action": {"tag": "button", "value": {"command": command}}, "host": "im_message",
            "context": {"open_message_id": "om_card", "open_chat_id": chat}}}
