"""The DingTalk sink: replies through a callback's sessionWebhook, notifications through a signed robot."""

from __future__ import annotations

import json
import logging
import uuid

import requests
from redis import Redis

from bots.dingtalk import outbox, render, sign
from bots.message import Message
from bots.sinks import SinkError
from core.config import Settings

log = logging.getLogger("dockyard.dingtalk")
TIMEOUT = 5


def post_json(url: str, payload: dict) -> dict:
    """POST a robot payload; DingTalk answers 200 with {errcode, errmsg}."""
    # Sent as UTF-8 exactly as render.payload measured it (requests' json= would \u-escape and grow it).
    body = json.dumps(payload, ensure_ascii=False).encode()
    try:
        response = requests.post(url, data=body, headers={"Content-Type": "application/json; charset=utf-8"},
                                 timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise SinkError(f"DingTalk did not answer: {exc.__class__.__name__}") from None
    if response.status_code >= 500:
        raise SinkError(f"DingTalk answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise SinkError(f"DingTalk answered {response.status_code} without JSON", retryable=False) from None


class DingTalkSink:
    """Command replies go straight to the sessionWebhook; robot notifications queue in the outbox."""

    name = "dingtalk"

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    def robot_url(self, robot: str) -> str:
        if robot not in self.settings.dingtalk_robots:
            raise SinkError(f"no DingTalk robot {robot!r}: add it to DINGTALK_ROBOT_WEBHOOK", retryable=False)
        webhook = self.settings.dingtalk_robots[robot].get_secret_value()
        secret = self.settings.dingtalk_robot_secrets.get(robot) or self.settings.dingtalk_robot_secret
        return sign.signed_url(webhook, secret.get_secret_value()) if secret else webhook

    def post(self, target: dict, message: Message) -> str:
        if target.get("session_webhook"):
            answer = post_json(target["session_webhook"], render.payload(message))
            if answer.get("errcode", 0) != 0:
                raise SinkError(f"DingTalk refused the reply: {answer.get('errcode')} {answer.get('errmsg')}")
            return uuid.uuid4().hex[:12]
        robot = target.get("robot") or "default"
        outbox.push(self.redis, robot, with_links(message, robot))
        schedule_flush(self.redis, robot)
        return f"queued:{robot}:{uuid.uuid4().hex[:8]}"

    def update(self, target: dict, ref: str, message: Message) -> str:
        # Robots cannot edit a message; only a changed headline is worth a new one.
        if message.severity == "info" and message.footer.startswith("this message updates"):
            return ref
        return self.post(target, message)


def schedule_flush(redis: Redis, robot: str, delay: float | None = None) -> None:
    """Make sure one flush job for the robot is queued (or scheduled after `delay` seconds)."""
    from datetime import timedelta

    from rq import Queue

    flag = f"dockyard:dingtalk:flush-pending:{robot}"
    if not redis.set(flag, "1", nx=True, ex=int(delay or 0) + 120):
        return
    queue = Queue("notify", connection=redis)
    if delay:
        queue.enqueue_in(timedelta(seconds=delay), "jobs.dingtalk.flush", robot=robot)
    else:
        queue.enqueue("jobs.dingtalk.flush", robot=robot)


MAX_LINKS = 10  # DingTalk shows actionCard buttons one under another; keep the card readable
LINK_TTL = 3600


def with_links(message: Message, robot: str) -> Message:
    """DingTalk cards cannot say who clicked: each command button becomes one signed, expiring link per
    person the policy lets run it (the link runs the command as that person). Without
    DOCKYARD_LINK_SECRET the buttons stay as `@Dockyard <command>` hints."""
    from dataclasses import replace

    from bots import grammar, links
    from bots.message import Button
    from core import runtime
    from rules import policy

    rt = runtime.get()
    if rt.settings.link_secret is None or not message.buttons:
        return message
    secret = rt.settings.link_secret.get_secret_value()
    out: list[Button] = [b for b in message.buttons if b.url]
    for button in (b for b in message.buttons if b.value and not b.url):
        try:
            command = grammar.parse(button.value)
        except grammar.CommandError:
            continue
        for name, user in rt.rules.policy.users.items():
            who = policy.Identity(name, "dingtalk", user.dingtalk or "")
            if not user.dingtalk or not policy.check(rt.rules, who, command.action, getattr(command, "service", None),
                                                     getattr(command, "env", None)).allowed:
                continue
            token = links.make(secret, button.value, "dingtalk", user.dingtalk, ttl=LINK_TTL)
            out.append(Button(f"{button.label} as {name}", button.action, button.value,
                              f"{rt.settings.public_url}/actions/{token}?robot={robot}"))
    return replace(message, buttons=tuple(out[:MAX_LINKS]))

