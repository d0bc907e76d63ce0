"""Stand-in for DingTalk's robot send API and sessionWebhooks: checks the sign, enforces 20/min, records."""

from __future__ import annotations

import json
import time

from bots.dingtalk import sign
from deploy.local.standin import StandIn


def missing_keyword(payload: dict, keywords: tuple[str, ...]) -> str | None:
    """Why a keyword-secured robot refuses a message: none of its keywords in the message's text."""
    content = payload.get(payload.get("msgtype", ""), {})
    text = " ".join(str(content.get(k, "")) for k in ("title", "text", "content"))
    return None if any(k in text for k in keywords) else "keywords not in content"


class DingTalkAPI(StandIn):
    """Also the enterprise app's gettoken and work notifications, when given the app's key, secret and agent."""

    def __init__(self, tokens: dict[str, str], app: tuple[str, str, str] | None = None,
                 keywords: dict[str, tuple[str, ...]] | None = None):
        super().__init__()
        self.tokens = tokens  # access_token -> robot sign secret
        self.keywords = keywords or {}  # access_token -> custom keywords, for robots secured by keyword
        self.sent_at: dict[str, list[float]] = {}
        self.app = app  # (appkey, appsecret, agent_id)
        self.app_tokens: set[str] = set()

    def _app(self, method, path, query, payload):
        if path == "/gettoken" and method == "GET":
            if self.app is None or (query.get("appkey") or [""])[0] != self.app[0] or \
                    (query.get("appsecret") or [""])[0] != self.app[1]:
                return 200, {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}
            token = f"app-{len(self.app_tokens)}"
            self.app_tokens.add(token)
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if (query.get("access_token") or [""])[0] not in self.app_tokens:
            return 200, {"errcode": 88, "errmsg": "invalid access_token"}
        if str(payload.get("agent_id")) != self.app[1 + 1] or not payload.get("userid_list"):  # type: ignore[index]
            return 200, {"errcode": 400002, "errmsg": "invalid agent_id or userid_list"}
        card = (payload.get("msg") or {}).get("action_card") or {}
        if not card.get("markdown") or not card.get("btn_json_list"):
            return 200, {"errcode": 400002, "errmsg": "action_card needs markdown and btn_json_list"}
        self.record(kind="work", userid=payload["userid_list"], card=card)
        return 200, {"errcode": 0, "errmsg": "ok", "task_id": 1000 + len(self.calls)}

    def handle(self, method, path, query, headers, body):
        payload = json.loads(body or b"{}")
        if path in ("/gettoken", "/topapi/message/corpconversation/asyncsend_v2"):
            return self._app(method, path, query, payload)
        if path.startswith("/session/"):
            self.record(kind="session", path=path, payload=payload)
            return 200, {"errcode": 0, "errmsg": "ok"}
        token = (query.get("access_token") or [""])[0]
        if token not in self.tokens:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if token in self.keywords:  # secured by 自定义关键词 instead of a signature
            problem = missing_keyword(payload, self.keywords[token])
        else:
            problem = sign.verify((query.get("timestamp") or [None])[0], (query.get("sign") or [None])[0],
                                  self.tokens[token])
        if problem:
            self.record(kind="refused", reason=problem)
            return 200, {"errcode": 310000, "errmsg": problem if token in self.keywords else f"sign not match: {problem}"}
        if len(body) > 20_000:
            return 200, {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
        now = time.time()
        recent = [t for t in self.sent_at.get(token, []) if now - t < 60]
        if len(recent) >= 20:
            self.record(kind="too_fast", token=token)
            return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        self.sent_at[token] = recent + [now]
        self.record(kind="robot", token=token, payload=payload, at=now)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def robot_texts(self) -> list[str]:
        out = []
        for call in self.calls:
            if call.get("kind") == "robot":
                body = call["payload"].get("markdown") or call["payload"].get("actionCard") or {}
                out.append(body.get("text", ""))
        return out
