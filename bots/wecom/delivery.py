"""Where WeCom messages go, within which quota: group robots (20 a minute, 4,096 bytes of markdown)
and the app's messages to one member (WeCom discards what passes 30 a minute per member)."""

from __future__ import annotations

import logging
from dataclasses import replace

from bots.sinks import outbox
from bots.sinks.base import SinkError
from bots.wecom import api, digest, markdown
from core.config import Settings
from core.runtime import Runtime

log = logging.getLogger("dockyard.wecom")
USER = "user:"  # a box named user:<userid> is the app's chat with that member; any other is a robot
TOO_FAST = frozenset({45009})  # "api freq out of limit"

ROBOT = outbox.Quota(
    sink="wecom", platform="WeCom", limits=((20, 60.0),), max_bytes=markdown.ROBOT_BYTES,
    render=markdown.robot_payload, size=lambda payload: len(payload["markdown"]["content"].encode()),
    error=lambda answer: int(answer.get("errcode", 0) or 0), too_fast=TOO_FAST, digest=digest.payload)
APP = replace(ROBOT, limits=((30, 60.0),), max_bytes=markdown.APP_BYTES, render=markdown.app_payload,
              message_id=lambda answer: answer.get("msgid") or None)


def quota(box: str) -> outbox.Quota:
    return APP if box.startswith(USER) else ROBOT


def robot_url(settings: Settings, robot: str) -> str:
    if robot not in settings.wecom_robots:
        raise SinkError(f"no WeCom robot {robot!r}: add it to WECOM_ROBOT_WEBHOOK", retryable=False)
    return settings.wecom_robots[robot].get_secret_value()


def editable(box: str) -> bool:
    """The app's chat with a member shows one current message per ref (recall, then send); robots only send."""
    return box.startswith(USER)


def edit(rt: Runtime, box: str, msgid: str, payload: dict) -> dict:
    """WeCom cannot change an app message: recall the ref's last one, then send the new content.

    A recall WeCom refuses (older than 24 hours, or already gone) leaves the old message in the
    chat; the new one is sent all the same, so the member still reads the current state.
    """
    answer = api.recall(rt.redis, rt.settings, msgid)
    if answer.get("errcode", 0) != 0:
        log.info("WeCom kept message %s (%s %s): the update arrives beside it", msgid[:40], answer.get("errcode"),
                 str(answer.get("errmsg", ""))[:100])
    return api.send_app(rt.redis, rt.settings, box.removeprefix(USER), payload)


def send(rt: Runtime, box: str, payload: dict, ref: str | None = None) -> dict:
    """Post one payload to the box's destination; returns WeCom's answer (an app message's has its msgid)."""
    if box.startswith(USER):
        return api.send_app(rt.redis, rt.settings, box.removeprefix(USER), payload)
    return api.post_json(robot_url(rt.settings, box), payload)
