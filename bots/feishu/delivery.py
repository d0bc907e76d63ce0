"""Where Feishu messages go, within which quota: custom bots (100 a minute and 5 a second each,
20 KB a request) and the Dockyard app's cards in a chat (5 a second per chat, 30 KB a card)."""

from __future__ import annotations

from dataclasses import replace

from bots.feishu import api, card, digest, sign
from bots.sinks import outbox
from bots.sinks.base import SinkError
from core.config import Settings
from core.runtime import Runtime

CHAT = "chat:"  # a box named chat:<chat id> is posted by the app; any other is a custom bot
TOO_FAST = frozenset({11232, 230020, 99991400})  # custom bot, per-chat and per-app rate limits

ROBOT = outbox.Quota(
    sink="feishu", platform="Feishu", limits=((100, 60.0), (5, 1.0)), max_bytes=card.BOT_BODY_BYTES,
    render=card.bot_payload, size=card.bot_size, error=api.code, too_fast=TOO_FAST,
    digest=digest.bot_payload)
APP = replace(ROBOT, limits=((5, 1.0),), max_bytes=card.APP_BODY_BYTES, render=card.app_payload,
              size=card.app_size, digest=digest.app_payload,
              message_id=lambda answer: (answer.get("data") or {}).get("message_id"))


def quota(box: str) -> outbox.Quota:
    return APP if box.startswith(CHAT) else ROBOT


def robot_url(settings: Settings, robot: str) -> str:
    if robot not in settings.feishu_robots:
        raise SinkError(f"no Feishu bot {robot!r}: add it to FEISHU_ROBOT_WEBHOOK", retryable=False)
    return settings.feishu_robots[robot].get_secret_value()


def editable(box: str) -> bool:
    """The app's cards in a chat can be edited (PATCH); a custom bot's cannot."""
    return box.startswith(CHAT)


def edit(rt: Runtime, box: str, message_id: str, payload: dict) -> dict:
    """Replace the card of an app message in the box's chat; returns Feishu's answer."""
    return api.patch_card(rt.redis, rt.settings, message_id, payload["card"])


def send(rt: Runtime, box: str, payload: dict, ref: str | None = None) -> dict:
    """Post one card to the box's destination; returns Feishu's answer (the app's carries its message_id)."""
    if box.startswith(CHAT):
        return api.send_card(rt.redis, rt.settings, box.removeprefix(CHAT), payload["card"])
    secret = rt.settings.feishu_robot_secrets.get(box) or rt.settings.feishu_robot_secret
    return api.call("POST", robot_url(rt.settings, box),
                    sign.signed_body(payload, secret.get_secret_value() if secret else None))
