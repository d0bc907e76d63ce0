"""WeCom's HTTP API: group-robot webhooks, and the app's access token and message/send."""

from __future__ import annotations

import json

from redis import Redis

from bots.sinks.base import SinkError
from bots.sinks.http import call_json
from core.config import Settings

TIMEOUT = 5
TOKEN_KEY = "dockyard:wecom:app-token"
STALE_TOKEN = frozenset({40014, 41001, 42001})  # invalid, missing, expired access_token


def post_json(url: str, payload: dict, params: dict | None = None) -> dict:
    """POST JSON to WeCom; it answers 200 with {errcode, errmsg}. Redirects are never followed."""
    body = json.dumps(payload, ensure_ascii=False).encode()  # as measured: requests' json= would \\u-escape
    return _call("POST", url, params=params, data=body, headers={"Content-Type": "application/json; charset=utf-8"})


def _call(method: str, url: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    return call_json("WeCom", method, url, **kwargs)


def access_token(redis: Redis, settings: Settings) -> str:
    """The app's access token, cached in Redis a little shorter than WeCom keeps it (7,200 s)."""
    cached = redis.get(TOKEN_KEY)
    if cached:
        return cached.decode()
    if not (settings.wecom_corp_id and settings.wecom_secret):
        raise SinkError("WeCom's app is not configured here: set WECOM_CORP_ID and WECOM_SECRET", retryable=False)
    answer = _call("GET", f"{settings.wecom_api_url.rstrip('/')}/cgi-bin/gettoken",
                   params={"corpid": settings.wecom_corp_id, "corpsecret": settings.wecom_secret.get_secret_value()})
    if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
        raise SinkError(f"WeCom refused the app's token: {answer.get('errcode')} {answer.get('errmsg')}",
                        retryable=answer.get("errcode") == -1)
    token = str(answer["access_token"])
    redis.set(TOKEN_KEY, token, ex=max(60, int(answer.get("expires_in", 7200)) - 300))
    return token


def _app_call(redis: Redis, settings: Settings, path: str, body: dict) -> dict:
    """POST to the app's API with its access token; a stale token is fetched again once."""
    url = f"{settings.wecom_api_url.rstrip('/')}{path}"
    answer = post_json(url, body, params={"access_token": access_token(redis, settings)})
    if answer.get("errcode") in STALE_TOKEN:
        redis.delete(TOKEN_KEY)
        answer = post_json(url, body, params={"access_token": access_token(redis, settings)})
    return answer


def send_app(redis: Redis, settings: Settings, userid: str, payload: dict) -> dict:
    """One app message to one member (message/send); WeCom's answer carries its msgid."""
    if not settings.wecom_agent_id:
        raise SinkError("WeCom's app is not configured here: set WECOM_AGENT_ID", retryable=False)
    return _app_call(redis, settings, "/cgi-bin/message/send",
                     {"touser": userid, "agentid": int(settings.wecom_agent_id), **payload})


def recall(redis: Redis, settings: Settings, msgid: str) -> dict:
    """Withdraw an app message sent within the last 24 hours (message/recall); WeCom's answer."""
    return _app_call(redis, settings, "/cgi-bin/message/recall", {"msgid": msgid})
