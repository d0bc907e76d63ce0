"""Drain a DingTalk robot's outbox within its quota; reschedule what must wait."""

from __future__ import annotations

import logging

from bots.dingtalk import outbox, workapp
from bots.dingtalk.sink import DingTalkSink, post_json, schedule_flush
from core import metrics, runtime
from rules import routing

log = logging.getLogger("dockyard.dingtalk")


def flush(robot: str) -> dict:
    """RQ job: send what the minute allows, merge bursts into digests, come back for the rest."""
    rt = runtime.get()
    redis = rt.redis
    redis.delete(f"dockyard:dingtalk:flush-pending:{robot}")
    lock = redis.lock(f"dockyard:dingtalk:flush-lock:{robot}", timeout=60, blocking_timeout=30)
    if not lock.acquire():
        schedule_flush(redis, robot, delay=5)
        return {"robot": robot, "skipped": "another flush is running"}
    try:
        sink = DingTalkSink(redis, rt.settings)

        def send(payload: dict) -> dict:
            answer = post_json(sink.robot_url(robot), payload)
            if answer.get("errcode", 0) != 0:
                log.warning("DingTalk robot %s answered %s %s", robot, answer.get("errcode"), answer.get("errmsg"))
            return answer  # outbox.flush counts what was sent and what was refused

        result = outbox.flush(redis, robot, send,
                              prefix=routing.box_prefix(rt.rules, rt.settings, "dingtalk", robot))
    finally:
        lock.release()
    if result.waiting:
        schedule_flush(redis, robot, delay=result.retry_after)
    return {"robot": robot, "sent": result.sent, "events": result.events, "waiting": result.waiting}


def notify_person(userid: str, title: str, markdown: str, links: list[list[str]]) -> str:
    """RQ job: one person's own action links, by work notification (retried like any job)."""
    rt = runtime.get()
    task = workapp.notify(rt.redis, rt.settings, userid, title, markdown, [(label, url) for label, url in links])
    metrics.inc(rt.redis, "dockyard_notifications_sent", sink="dingtalk")
    return task
