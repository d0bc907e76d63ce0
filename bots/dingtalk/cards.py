"""DingTalk interactive cards: the enterprise app's robot posts a card to a group and updates it in place.

DingTalk's v1.0 API (api.dingtalk.com): an access token from POST /v1.0/oauth2/accessToken, a card
sent with POST /v1.0/im/interactiveCards/send naming an outTrackId that Dockyard chooses (from the
post's ref), and the card updated by that outTrackId with PUT /v1.0/im/interactiveCards. The card template (made once in
DingTalk's card builder, DINGTALK_CARD_TEMPLATE_ID) shows two variables: `title` and `markdown`.

The card is seen by everyone in the group, so like a group robot's message it carries no link that
acts as someone: buttons show the command to send (bots/dingtalk/markdown.py); personal links go by
work notification (bots/dingtalk/workapp.py). Answers are turned into the robot's {errcode, errmsg}
so the outbox reads every DingTalk destination the same way.
"""

from __future__ import annotations

import json
import uuid

from redis import Redis

from bots.dingtalk import markdown
from bots.message import Message, web_url
from bots.sinks.base import SinkError
from bots.sinks.digest import markdown_url
from bots.sinks.http import call_json
from core.config import Settings

TOKEN_KEY = "dockyard:dingtalk:v1-token"
GROUP = 1  # conversationType: 0 a one-to-one chat, 1 a group
TOO_FAST = 130101  # as the robot's errcode: the outbox backs off on it
REFUSED = 400  # any other refusal, as an errcode (the answer's own code is in errmsg)
STALE_TOKEN = frozenset({"InvalidAuthentication", "InvalidAccessToken"})


def configured(settings: Settings) -> bool:
    """Cards need the app (key and secret) and the card template."""
    return bool(settings.dingtalk_app_key and settings.dingtalk_app_secret and settings.dingtalk_card_template_id)


def track_id(ref: str | None) -> str:
    """A new outTrackId for a ref's card (letters and digits, as DingTalk asks): the ref's unique part and
    a fresh one, since a card DingTalk refused to update is posted anew under the same ref and an
    outTrackId is used once. The outbox keeps ref -> outTrackId (bots/sinks/edits.py)."""
    return f"dockyard{(ref or '').rsplit(':', 1)[-1][:16]}{uuid.uuid4().hex[:16]}"


def _card_params(robot_payload: dict) -> dict:
    """A robot payload (markdown or actionCard) as the card's variables; link buttons become links."""
    body = robot_payload.get("markdown") or robot_payload.get("actionCard") or {}
    text = body.get("text", "")
    links = [f"[{markdown._plain(b['title'])}]({markdown_url(b['actionURL'])})"
             for b in body.get("btns", ()) if web_url(b.get("actionURL"))]
    if links:
        text = f"{text}\n\n" + "  \n".join(links)
    return {"cardData": {"cardParamMap": {"title": body.get("title", ""), "markdown": text}}}


def payload(message: Message) -> dict:
    """A Message as the card's data, within DingTalk's 20,000 bytes (the robot's renderer fits it)."""
    return _card_params(markdown.payload(message))


def digest_payload(robot_payload: dict) -> dict:
    """A digest the robot renderer made, as a card."""
    return _card_params(robot_payload)


def size(card: dict) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def _answer(answer: dict, out_track_id: str) -> dict:
    """A v1.0 answer as the robot's {errcode, errmsg}: {success, result} when it worked, {code, message} when not."""
    code = answer.get("code")
    if not code:
        return {"errcode": 0, "errmsg": "ok", "outTrackId": out_track_id}
    too_fast = "QpsLimit" in str(code) or "Throttling" in str(code)
    return {"errcode": TOO_FAST if too_fast else REFUSED, "errmsg": f"{code}: {answer.get('message', '')}"}


def access_token(redis: Redis, settings: Settings) -> str:
    """The app's v1.0 access token, cached a little shorter than DingTalk keeps it."""
    cached = redis.get(TOKEN_KEY)
    if cached:
        return cached.decode()
    if not (settings.dingtalk_app_key and settings.dingtalk_app_secret):
        raise SinkError("DingTalk cards need the app: set DINGTALK_APP_KEY and DINGTALK_APP_SECRET", retryable=False)
    answer = call_json("DingTalk's API", "POST", f"{settings.dingtalk_open_api_url.rstrip('/')}/v1.0/oauth2/accessToken",
                       {"appKey": settings.dingtalk_app_key, "appSecret": settings.dingtalk_app_secret.get_secret_value()})
    if not answer.get("accessToken"):
        raise SinkError(f"DingTalk refused the app's token: {answer.get('code')} {answer.get('message')}; "
                        f"check DINGTALK_APP_KEY and DINGTALK_APP_SECRET", retryable=False)
    redis.set(TOKEN_KEY, str(answer["accessToken"]), ex=max(60, int(answer.get("expireIn", 7200)) - 300))
    return str(answer["accessToken"])


def _call(redis: Redis, settings: Settings, method: str, path: str, body: dict) -> dict:
    url = f"{settings.dingtalk_open_api_url.rstrip('/')}{path}"

    def once() -> dict:
        return call_json("DingTalk's API", method, url, body,
                         headers={"x-acs-dingtalk-access-token": access_token(redis, settings)})

    answer = once()
    if answer.get("code") in STALE_TOKEN:
        redis.delete(TOKEN_KEY)
        answer = once()
    return answer


def send(redis: Redis, settings: Settings, conversation: str, card: dict, ref: str | None) -> dict:
    """Post a card to a group the app's robot is in; the answer names the outTrackId to update it by."""
    out_track_id = track_id(ref)
    body = {"cardTemplateId": settings.dingtalk_card_template_id, "openConversationId": conversation,
            "conversationType": GROUP, "outTrackId": out_track_id,
            "robotCode": settings.dingtalk_robot_code or settings.dingtalk_app_key, **card}
    return _answer(_call(redis, settings, "POST", "/v1.0/im/interactiveCards/send", body), out_track_id)


def update(redis: Redis, settings: Settings, out_track_id: str, card: dict) -> dict:
    """Replace a card's data (every variable) by its outTrackId."""
    body = {"outTrackId": out_track_id, **card, "cardOptions": {"updateCardDataByKey": False}}
    return _answer(_call(redis, settings, "PUT", "/v1.0/im/interactiveCards", body), out_track_id)
