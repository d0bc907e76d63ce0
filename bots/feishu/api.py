"""Feishu's HTTP API: custom bot webhooks, and the app's tenant token and message sending."""

from __future__ import annotations

import json
from urllib.parse import quote

from redis import Redis

from bots.sinks.base import SinkError
from bots.sinks.http import call_json
from core.config import Settings

TIMEOUT = 5
TOKEN_KEY = "dockyard:feishu:tenant-token"
STALE_TOKEN = frozenset({99991661, 99991663, 99991668})  # missing, invalid, expired tenant token


def call(method: str, url: str, payload: dict | None = None, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    """One request to Feishu; its JSON answer ({code, msg, ...}) whatever the HTTP status below 500."""
    return call_json("Feishu", method, url, payload, **kwargs)


def code(answer: dict) -> int:
    """The error code of an answer, 0 when it worked (custom bots once answered StatusCode instead)."""
    return int(answer["code"] if "code" in answer else answer.get("StatusCode", 0) or 0)


def tenant_token(redis: Redis, settings: Settings) -> str:
    """The app's tenant_access_token, cached in Redis a little shorter than Feishu keeps it."""
    cached = redis.get(TOKEN_KEY)
    if cached:
        return cached.decode()
    if not (settings.feishu_app_id and settings.feishu_app_secret):
        raise SinkError("Feishu's app is not configured here: set FEISHU_APP_ID and FEISHU_APP_SECRET",
                        retryable=False)
    answer = call("POST", f"{settings.feishu_api_url.rstrip('/')}/open-apis/auth/v3/tenant_access_token/internal",
                  {"app_id": settings.feishu_app_id, "app_secret": settings.feishu_app_secret.get_secret_value()})
    if code(answer) != 0 or not answer.get("tenant_access_token"):
        raise SinkError(f"Feishu refused the app's token: {code(answer)} {answer.get('msg')}", retryable=False)
    redis.set(TOKEN_KEY, str(answer["tenant_access_token"]), ex=max(60, int(answer.get("expire", 7200)) - 300))
    return str(answer["tenant_access_token"])


def _with_token(redis: Redis, settings: Settings, request) -> dict:  # type: ignore[no-untyped-def]
    """Call `request(token)`; a stale token is fetched again once."""
    answer = request(tenant_token(redis, settings))
    if code(answer) in STALE_TOKEN:
        redis.delete(TOKEN_KEY)
        answer = request(tenant_token(redis, settings))
    return answer


def patch_card(redis: Redis, settings: Settings, message_id: str, card: dict) -> dict:
    """Replace the card of a message the app sent (a shared card, within 14 days); Feishu's answer."""
    url = f"{settings.feishu_api_url.rstrip('/')}/open-apis/im/v1/messages/{quote(message_id, safe='')}"
    body = {"content": json.dumps(card, ensure_ascii=False)}
    return _with_token(redis, settings, lambda token: call("PATCH", url, body,
                                                           headers={"Authorization": f"Bearer {token}"}))


def send_card(redis: Redis, settings: Settings, chat_id: str, card: dict) -> dict:
    """The app posts a card to a chat it is in; a stale token is fetched again once."""
    url = f"{settings.feishu_api_url.rstrip('/')}/open-apis/im/v1/messages"
    body = {"receive_id": chat_id, "msg_type": "interactive", "content": json.dumps(card, ensure_ascii=False)}

    return _with_token(redis, settings, lambda token: call("POST", url, body, params={"receive_id_type": "chat_id"},
                                                           headers={"Authorization": f"Bearer {token}"}))
