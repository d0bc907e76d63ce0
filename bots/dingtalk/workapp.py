"""DingTalk's enterprise app: work notifications to one person (where a personal link may go).

A group robot's card is seen by everyone in the group, so it never carries a
link that acts as someone. A work notification reaches one user's own chat
with the app: there Dockyard sends each person allowed to act their own
signed link. Needs DINGTALK_APP_KEY, DINGTALK_APP_SECRET and DINGTALK_AGENT_ID.
"""

from __future__ import annotations

from redis import Redis

from bots.sinks.base import SinkError
from bots.sinks.http import call_json
from core.config import Settings

TOKEN_KEY = "dockyard:dingtalk:app-token"


def configured(settings: Settings) -> bool:
    return bool(settings.dingtalk_app_key and settings.dingtalk_app_secret and settings.dingtalk_agent_id)


def _call(method: str, url: str, **kwargs) -> dict:
    answer = call_json("DingTalk's API", method, url, **kwargs)
    if answer.get("errcode", 0) != 0:
        # 88 / 40014: the cached token went stale; anything else is a configuration problem.
        raise SinkError(f"DingTalk's API refused: {answer.get('errcode')} {answer.get('errmsg')}",
                        retryable=answer.get("errcode") in (88, 40014, -1))
    return answer


def access_token(redis: Redis, settings: Settings) -> str:
    """The app's access token, cached in Redis a little shorter than DingTalk keeps it (7,200 s)."""
    cached = redis.get(TOKEN_KEY)
    if cached:
        return cached.decode()
    assert settings.dingtalk_app_key and settings.dingtalk_app_secret
    answer = _call("GET", f"{settings.dingtalk_api_url.rstrip('/')}/gettoken",
                   params={"appkey": settings.dingtalk_app_key,
                           "appsecret": settings.dingtalk_app_secret.get_secret_value()})
    token = str(answer["access_token"])
    redis.set(TOKEN_KEY, token, ex=max(60, int(answer.get("expires_in", 7200)) - 300))
    return token


def notify(redis: Redis, settings: Settings, userid: str, title: str, markdown: str,
           links: list[tuple[str, str]]) -> str:
    """Send one user an action card with their own links; returns DingTalk's task id."""
    card = {"title": title[:64], "markdown": markdown, "btn_orientation": "1",
            "btn_json_list": [{"title": label[:20], "action_url": url} for label, url in links]}
    body = {"agent_id": settings.dingtalk_agent_id, "userid_list": userid,
            "msg": {"msgtype": "action_card", "action_card": card}}
    try:
        answer = _call("POST", f"{settings.dingtalk_api_url.rstrip('/')}/topapi/message/corpconversation/asyncsend_v2",
                       params={"access_token": access_token(redis, settings)},
                       payload=body)
    except SinkError as exc:
        if exc.retryable:
            redis.delete(TOKEN_KEY)
        raise
    return str(answer.get("task_id", ""))
