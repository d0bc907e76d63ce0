"""The DingTalk sink: replies through a callback's sessionWebhook, notifications through a signed robot,
and the app robot's interactive cards in a group (`conversation`), updated in place (bots/dingtalk/cards.py)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from urllib.parse import urlsplit

from redis import Redis

from bots import grammar, links
from bots.dingtalk import cards, delivery, markdown, outbox, sign, workapp
from bots.message import Message
from bots.pipeline import policy_scope
from bots.sinks import edits
from bots.sinks import outbox as shared
from bots.sinks.base import SinkError
from bots.sinks.http import call_json
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from jobs.queues import enqueue
from rules import policy

log = logging.getLogger("dockyard.dingtalk")


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; '' when it has none."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    if not parts.scheme or not parts.hostname:
        return ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{port}"


def reply_refused(url: str, allowed_origins: tuple[str, ...]) -> str | None:
    """Why a callback's sessionWebhook may not be posted to, or None: only DingTalk's own origins.

    The URL comes from the callback body, which DingTalk's sign does not cover;
    without this check the web process would post wherever a caller says.
    """
    if len(url) > 2048 or any(ch.isspace() or ord(ch) < 32 for ch in url) or "@" in url.split("?", 1)[0]:
        return "is not a plain URL"
    if origin(url) not in allowed_origins:
        return f"is not on DingTalk's hosts ({', '.join(allowed_origins)}); set DINGTALK_REPLY_ORIGINS to change them"
    return None


def post_json(url: str, payload: dict) -> dict:
    """POST a robot payload; DingTalk answers 200 with {errcode, errmsg}."""
    return call_json("DingTalk", "POST", url, payload)


class DingTalkSink:
    """Cards in a group (`conversation`) and robot notifications queue in the outbox; other command
    replies go straight to the sessionWebhook. Only cards can be edited."""

    name = "dingtalk"
    # 20,000 bytes a message in all: the rest is room for the title, fields, buttons and markdown escapes.
    text_budget = markdown.MAX_BYTES * 3 // 5

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    @classmethod
    def from_runtime(cls, rt: Runtime) -> "DingTalkSink":
        return cls(rt.redis, rt.settings)

    def robot_url(self, robot: str) -> str:
        if robot not in self.settings.dingtalk_robots:
            raise SinkError(f"no DingTalk robot {robot!r}: add it to DINGTALK_ROBOT_WEBHOOK", retryable=False)
        webhook = self.settings.dingtalk_robots[robot].get_secret_value()
        secret = self.settings.dingtalk_robot_secrets.get(robot) or self.settings.dingtalk_robot_secret
        return sign.signed_url(webhook, secret.get_secret_value()) if secret else webhook

    def _cards(self, target: dict) -> str | None:
        """The card box for a `conversation` target; SinkError when the app's cards are not set up."""
        if not target.get("conversation"):
            return None
        if not cards.configured(self.settings):
            raise SinkError("DingTalk cards are not configured here: set DINGTALK_APP_KEY, DINGTALK_APP_SECRET "
                            "and DINGTALK_CARD_TEMPLATE_ID, or route the channel to a `robot:`", retryable=False)
        return delivery.box(target["conversation"])

    def post(self, target: dict, message: Message) -> str:
        box = self._cards(target)
        if box:  # a card the app's robot posts to the group; its ref names it for update()
            ref = edits.new_ref(shared.QUEUED, box)
            shared.push(self.redis, delivery.CARD, box, message, ref)
            shared.schedule_flush(self.redis, self.settings, self.name, box)
            if message.buttons and workapp.configured(self.settings):
                self.send_personal_links(message, {"sink": "dingtalk", "conversation": target["conversation"]})
            return ref
        if target.get("session_webhook"):
            problem = reply_refused(target["session_webhook"], self.settings.dingtalk_reply_origins)
            if problem:
                raise SinkError(f"reply not sent: the sessionWebhook {problem}", retryable=False)
            answer = post_json(target["session_webhook"], markdown.payload(message))
            if answer.get("errcode", 0) != 0:
                raise SinkError(f"DingTalk refused the reply: {answer.get('errcode')} {answer.get('errmsg')}")
            return uuid.uuid4().hex[:12]
        robot = target.get("robot") or "default"
        outbox.push(self.redis, robot, message)  # buttons show as `@Dockyard <command>` replies
        schedule_flush(self.redis, robot)
        if message.buttons and workapp.configured(self.settings):
            self.send_personal_links(message, {"sink": "dingtalk", "robot": robot})
        return f"queued:{robot}:{uuid.uuid4().hex[:8]}"

    def send_personal_links(self, message: Message, target: dict) -> None:
        """Each person allowed to act gets their own links in a work notification, as a job of its own."""
        payload = markdown.payload(replace(message, buttons=()))
        body = (payload.get("markdown") or payload.get("actionCard") or {}).get("text", "")
        for name, (userid, user_links) in personal_links(message, target).items():
            enqueue(self.redis, self.settings, "notify", "jobs.dingtalk.notify_person", "dingtalk-personal",
                    userid=userid, title=message.title, markdown=body, links=user_links)

    def edits(self, target: dict) -> bool:
        """The app's cards in a group are updated in place; group robots and sessionWebhooks only send."""
        return bool(target.get("conversation")) and cards.configured(self.settings)

    def update(self, target: dict, ref: str, message: Message) -> str:
        box = self._cards(target)
        if not (box and ref.startswith(f"{shared.QUEUED}{box}:")):
            return self.post(target, message)  # robots cannot edit: a changed headline is a new message
        edits.queue_edit(self.redis, self.name, box, ref, message)
        shared.schedule_flush(self.redis, self.settings, self.name, box)
        return ref


Sink = DingTalkSink


def schedule_flush(redis: Redis, robot: str, delay: float | None = None) -> None:
    """Make sure one flush job for the robot is queued (or scheduled after `delay` seconds)."""
    flag = f"dockyard:dingtalk:flush-pending:{robot}"
    if not redis.set(flag, "1", nx=True, ex=int(delay or 0) + 120):
        return
    enqueue(redis, runtime.get().settings, shared.FLUSH_QUEUE, "jobs.dingtalk.flush", "dingtalk-flush", delay=delay,
            robot=robot)


LINK_TTL = 3600


def personal_links(message: Message, target: dict) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """For each person the policy lets act on the message's buttons: (their DingTalk id, their own links).

    Each link runs its command as that one person, so it goes only to them (a work notification),
    never into the group, where anyone could use it in their name.
    """
    rt = runtime.get()
    if rt.settings.link_secret is None:
        return {}
    secret = rt.settings.link_secret.get_secret_value()
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for button in (b for b in message.buttons if b.value and not b.url):
        try:
            command = grammar.parse(button.value)
        except grammar.CommandError:
            continue
        service, env = policy_scope(rt, command)
        for name, user in rt.rules.policy.users.items():
            who = policy.Identity(name, "dingtalk", user.dingtalk or "")
            if not user.dingtalk or not policy.check(rt.rules, who, command.action, service, env).allowed:
                continue
            token = links.make(secret, button.value, "dingtalk", user.dingtalk, ttl=LINK_TTL,
                               reply_to={k: v for k, v in target.items() if k in ("sink", "robot", "conversation")})
            out.setdefault(name, (user.dingtalk, []))[1].append(
                (button.label, f"{rt.settings.public_url}/actions/{token}"))
    return out
