"""Stand-in for DingTalk's robot send API and sessionWebhooks: checks the sign, enforces 20/min, records.

Also the v1.0 API the app's interactive cards use: POST /v1.0/oauth2/accessToken, POST
/v1.0/im/interactiveCards/send and PUT /v1.0/im/interactiveCards, with the token checked in the
x-acs-dingtalk-access-token header, the template, robot code and group checked, 20 sends a minute
per group (posts and updates alike), and every card with every update kept (`group_view`).
"""

from __future__ import annotations

import json
import time
import uuid

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
                 keywords: dict[str, tuple[str, ...]] | None = None, cards: tuple[str, str, set[str]] | None = None):
        super().__init__()
        self.cards_setup = cards  # (card template id, robot code, the groups' openConversationIds)
        self.v1_tokens: set[str] = set()
        self.cards: dict[str, dict] = {}  # outTrackId -> conversation, params, updates, expired
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

    def _v1(self, method, path, headers, payload):
        """DingTalk's v1.0 API: {success, result} when it works, an HTTP error with {code, message} when not."""
        if path == "/v1.0/oauth2/accessToken" and method == "POST":
            if self.app is None or (payload.get("appKey"), payload.get("appSecret")) != self.app[:2]:
                return 400, {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"}
            token = f"v1-{uuid.uuid4().hex}"
            self.v1_tokens.add(token)
            return 200, {"accessToken": token, "expireIn": 7200}
        if headers.get("x-acs-dingtalk-access-token") not in self.v1_tokens:
            return 401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}
        assert self.cards_setup is not None
        template, robot_code, groups = self.cards_setup
        params = (payload.get("cardData") or {}).get("cardParamMap")
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return 400, {"code": "param.invalid", "message": "cardData.cardParamMap: string values"}
        if path == "/v1.0/im/interactiveCards/send" and method == "POST":
            if payload.get("cardTemplateId") != template:
                return 400, {"code": "cardInstance.wrong", "message": "创建卡片实例失败,先检查卡片模板是否已发布"}
            if payload.get("robotCode") != robot_code:
                return 400, {"code": "chatbot.notFound", "message": "机器人不存在"}
            group, track = payload.get("openConversationId"), payload.get("outTrackId")
            if payload.get("conversationType") != 1 or group not in groups:
                return 400, {"code": "param.invalid", "message": "openConversationId: the robot is not in this group"}
            if not track or not str(track).isalnum() or track in self.cards:
                return 400, {"code": "card.outTraceIdError", "message": "卡片业务标识信息格式非法"}
            if not self._group_within(group):
                return 403, {"code": "Forbidden.AccessDenied.QpsLimitForApi", "message": "QPS limit for this API"}
            self.cards[track] = {"conversation": group, "params": params, "updates": [], "expired": False}
            self.record(kind="card", conversation=group, out_track_id=track, params=params)
            return 200, {"success": True, "result": {"processQueryKey": uuid.uuid4().hex}}
        if path == "/v1.0/im/interactiveCards" and method == "PUT":
            card = self.cards.get(str(payload.get("outTrackId")))
            # A card DingTalk no longer updates; its real code is not one Dockyard relies on: any refusal reposts.
            if card is None or card["expired"]:
                self.record(kind="card_refused", out_track_id=payload.get("outTrackId"))
                return 400, {"code": "param.outTrackIdNotExist", "message": "卡片不存在或已过期"}
            if not self._group_within(card["conversation"]):
                return 403, {"code": "Forbidden.AccessDenied.QpsLimitForApi", "message": "QPS limit for this API"}
            by_key = (payload.get("cardOptions") or {}).get("updateCardDataByKey")
            card["params"] = {**card["params"], **params} if by_key else params
            card["updates"].append(params)
            self.record(kind="card_update", out_track_id=payload["outTrackId"], params=params)
            return 200, {"success": True, "result": True}
        return 404, {"code": "NotFound", "message": f"no {method} {path}"}

    def _group_within(self, group: str) -> bool:
        now = time.time()
        recent = [t for t in self.sent_at.get(f"group:{group}", []) if now - t < 60]
        if len(recent) >= 20:
            self.record(kind="too_fast", group=group)
            return False
        self.sent_at[f"group:{group}"] = recent + [now]
        return True

    def group_view(self, group: str) -> list[dict]:
        """The app's cards in a group as a member sees them: current variables and every update."""
        return [{"out_track_id": t, **c} for t, c in self.cards.items() if c["conversation"] == group]

    def handle(self, method, path, query, headers, body):
        payload = json.loads(body or b"{}")
        if path.startswith("/v1.0/"):
            return self._v1(method, path, headers, payload)
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
