"""Stand-in for WeCom at the HTTP boundary, and WeCom's side of the app's callback.

Serves the group robot webhook (/cgi-bin/webhook/send?key=…: markdown up to 4,096 bytes, 20 messages a
minute per robot, errcode 45009 beyond) and the app's /cgi-bin/gettoken, /cgi-bin/message/send
(markdown up to 2,048 bytes, answered with its msgid; past 30 messages a minute to one member WeCom
answers ok and discards the message, which is recorded here as "discarded") and /cgi-bin/message/recall
(the app's own messages, within 24 hours). `member_view` is what a member sees in the app's chat. For the callback it encrypts and signs the
way WeCom does (written here from WeCom's published scheme, not taken from bots/wecom) and opens
the passive replies Dockyard answers with, checking their signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import time
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from deploy.local.standin import StandIn


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class WeComAPI(StandIn):
    def __init__(self, robot_keys: set[str], corp_id: str, agent_id: str, secret: str, token: str,
                 encoding_aes_key: str):
        super().__init__()
        self.robot_keys, self.corp_id, self.agent_id, self.secret = robot_keys, corp_id, agent_id, secret
        self.token, self.key = token, base64.b64decode(encoding_aes_key + "=")
        self.sent_at: dict[str, list[float]] = {}  # robot key or member -> send times
        self.app_tokens: set[str] = set()
        self.app_messages: dict[str, dict] = {}  # msgid -> user, content, sent_at, recalled

    # -- the HTTP API Dockyard calls --------------------------------------------------------------

    def _within(self, who: str, per_minute: int) -> bool:
        now = time.time()
        recent = [t for t in self.sent_at.get(who, []) if now - t < 60]
        if len(recent) >= per_minute:
            self.sent_at[who] = recent
            return False
        self.sent_at[who] = recent + [now]
        return True

    def handle(self, method, path, query, headers, body):
        arg = lambda name: (query.get(name) or [""])[0]  # noqa: E731
        if path == "/cgi-bin/gettoken" and method == "GET":
            if arg("corpid") != self.corp_id or arg("corpsecret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            token = f"wecom-token-{len(self.app_tokens)}"
            self.app_tokens.add(token)
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return 200, {"errcode": 40016, "errmsg": "invalid json"}
        content = (payload.get("markdown") or {}).get("content", "")
        if path == "/cgi-bin/webhook/send" and method == "POST":
            key = arg("key")
            if key not in self.robot_keys:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
            if payload.get("msgtype") != "markdown" or not content:
                return 200, {"errcode": 40008, "errmsg": "invalid message type"}
            if len(content.encode()) > 4096:
                return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
            if not self._within(f"robot:{key}", 20):
                self.record(kind="too_fast", key=key)
                return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
            self.record(kind="robot", key=key, content=content)
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path == "/cgi-bin/message/send" and method == "POST":
            if arg("access_token") not in self.app_tokens:
                return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
            if str(payload.get("agentid")) != self.agent_id or not payload.get("touser"):
                return 200, {"errcode": 40056, "errmsg": "invalid agentid or touser"}
            if payload.get("msgtype") != "markdown" or not content or len(content.encode()) > 2048:
                return 200, {"errcode": 40058, "errmsg": "markdown.content must be 1 to 2048 bytes"}
            msgid = f"msg{len(self.app_messages):04d}{os.urandom(6).hex()}"
            if not self._within(f"user:{payload['touser']}", 30):
                self.record(kind="discarded", user=payload["touser"], content=content)  # WeCom says ok, delivers nothing
            else:
                self.app_messages[msgid] = {"user": payload["touser"], "content": content, "sent_at": time.time(),
                                            "recalled": False}
                self.record(kind="app", user=payload["touser"], content=content, msgid=msgid)
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": msgid}
        if path == "/cgi-bin/message/recall" and method == "POST":
            if arg("access_token") not in self.app_tokens:
                return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
            message = self.app_messages.get(str(payload.get("msgid", "")))
            if message is None or message["recalled"]:
                return 200, {"errcode": 40008, "errmsg": "invalid msgid"}
            # WeCom recalls only within 24 hours; the exact errcode past that is not one Dockyard relies on.
            if time.time() - message["sent_at"] > 86400:
                self.record(kind="recall_refused", msgid=payload["msgid"])
                return 200, {"errcode": 301059, "errmsg": "message can only be recalled within 24 hours"}
            message["recalled"] = True
            self.record(kind="recall", msgid=payload["msgid"])
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": f"no {method} {path}"}

    def robot_texts(self) -> list[str]:
        return [c["content"] for c in self.calls if c["kind"] == "robot"]

    def member_view(self, user: str) -> list[str]:
        """The app's messages a member still sees (recalled ones are gone), oldest first."""
        return [m["content"] for m in self.app_messages.values() if m["user"] == user and not m["recalled"]]

    def age(self, msgid: str, seconds: float) -> None:
        self.app_messages[msgid]["sent_at"] = time.time() - seconds

    def app_texts(self, user: str) -> list[str]:
        return [c["content"] for c in self.calls if c["kind"] == "app" and c["user"] == user]

    # -- WeCom's side of the callback -----------------------------------------------------------------

    def encrypt(self, msg: bytes, receive_id: str | None = None) -> str:
        plain = os.urandom(16) + struct.pack(">I", len(msg)) + msg + (receive_id or self.corp_id).encode()
        pad = 32 - len(plain) % 32
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()

    def url_check(self, echo: str) -> dict[str, str]:
        """The GET query WeCom sends when the app's receiving URL is saved."""
        echostr, stamp, nonce = self.encrypt(echo.encode()), str(int(time.time())), "1372623149"
        return {"msg_signature": _sha1(self.token, stamp, nonce, echostr), "timestamp": stamp, "nonce": nonce,
                "echostr": echostr}

    def message(self, user: str, content: str, msg_id: str, *, timestamp: int | None = None,
                token: str | None = None, receive_id: str | None = None,
                msg_type: str = "text") -> tuple[dict[str, str], bytes]:
        """The query and body WeCom POSTs when a member sends the app a message."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        inner = ET.Element("xml")
        for tag, value in (("ToUserName", self.corp_id), ("FromUserName", user), ("CreateTime", stamp),
                           ("MsgType", msg_type), ("Content", content), ("MsgId", msg_id),
                           ("AgentID", self.agent_id)):
            ET.SubElement(inner, tag).text = value
        encrypted = self.encrypt(ET.tostring(inner, encoding="unicode").encode(), receive_id)
        nonce = str(int.from_bytes(os.urandom(4), "big"))
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]>"
                f"</Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>").encode()
        return {"msg_signature": _sha1(token or self.token, stamp, nonce, encrypted), "timestamp": stamp,
                "nonce": nonce}, body

    def open_reply(self, body: bytes) -> dict[str, str]:
        """A passive reply as the member's WeCom reads it: signature checked, decrypted, its fields."""
        outer = ET.fromstring(body)
        encrypted = outer.findtext("Encrypt") or ""
        expected = _sha1(self.token, outer.findtext("TimeStamp") or "", outer.findtext("Nonce") or "", encrypted)
        assert outer.findtext("MsgSignature") == expected, "the passive reply's MsgSignature is wrong"
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        assert plain[20 + length:].decode() == self.corp_id, "the passive reply is not from this corp"
        return {child.tag: child.text or "" for child in ET.fromstring(plain[20:20 + length])}
