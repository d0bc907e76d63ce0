"""Every channel's commands take one path: parse, identify, authorize, audit, enqueue.

The web process (Slack, DingTalk) and the console CLI call submit(); it
answers at once with either a refusal or an acknowledgement, and the job's
answer arrives later through the channel's sink.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bots import commands as c
from bots import freeze_messages, grammar, replies
from bots.commands import Command
from bots.i18n import say
from bots.message import Message
from core import audit, durable, logs, metrics
from core.runtime import Runtime
from jobs.queues import DEFAULT_TIMEOUT, enqueue
from rules import cronjob, policy, routing
from state import approvals, freezes, images, locks, schedules

log = logging.getLogger("dockyard.pipeline")
ROLLOUT_TIMEOUT = 3600  # the job waits for the rollout; each strategy gives up sooner on its own deadline


@dataclass(frozen=True)
class ChatRequest:
    """A command as a channel received it."""

    channel: str  # console | slack | dingtalk
    chat_id: str  # the sender's id on that channel
    text: str
    reply_to: dict = field(default_factory=dict)  # the sink's address for the answer


@dataclass(frozen=True)
class Outcome:
    """The immediate answer: accepted (with the job id) or refused with a message."""

    accepted: bool
    message: Message
    job_id: str | None = None
    command: Command | None = None


def _catalog_error(rt: Runtime, command: Command) -> str | None:
    name = getattr(command, "service", None)
    if name is None:  # /freeze, /unfreeze: an environment the catalog names
        env, known = getattr(command, "env", None), rt.rules.catalog.environment_names
        return f"there is no {env} environment (the catalog has {', '.join(known)})" if env and env not in known \
            else None
    service = rt.rules.service(name)
    if service is None:
        known = ", ".join(sorted(rt.rules.catalog.services))
        return f"service {name!r} is not in the catalog (known: {known})"
    env = getattr(command, "env", None)
    if env and env not in service.environments:
        return f"{name} has no {env} environment (it has {', '.join(rt.rules.catalog.order_of(name))})"
    if service.kind == "cronjob":  # no traffic, replicas or revisions: say so now rather than fail in the job
        strategy = getattr(command, "strategy", "rolling")
        return cronjob.refusal(name, getattr(command, "step", None) or
                               (strategy if strategy != "rolling" else command.verb))
    return None


def policy_scope(rt: Runtime, command: Command) -> tuple[str | None, str | None]:
    """The service and environment a command acts on; for /approve and /reject, those of the request."""
    if isinstance(command, (c.Approve, c.Reject)):
        return approvals.scope(rt.redis, command.approval_id)
    if isinstance(command, c.ScheduleCancel):
        entry = schedules.get(rt.redis, command.schedule_id)
        return (entry.command.get("service"), entry.command.get("env")) if entry else (None, None)
    return getattr(command, "service", None), getattr(command, "env", None)


def _frozen(rt: Runtime, command: Command, style: routing.Style) -> str | None:
    """Refuse early a change to a frozen environment (the job checks again when it runs).

    The policy's windows keep DOCKYARD_TIMEZONE (they are the organisation's); the refusal reads in the
    asking channel's language and zone."""
    env = getattr(command, "env", None)
    if not command.gated or env is None or getattr(command, "break_glass", None):
        return None
    freeze = freezes.active(rt.redis, rt.rules, env, zone=rt.settings.timezone)
    return freeze_messages.refusal(freeze, style.zone, style.locale) if freeze else None


def _rollout_conflict(rt: Runtime, command: Command) -> str | None:
    """Refuse early what the rollout job would refuse: a locked service, an approval not given."""
    if not isinstance(command, (c.Deploy, c.DeployControl, c.Rollback)):
        return None
    current = locks.holder(rt.redis, command.service, command.env)
    if current is None or isinstance(command, c.DeployControl):
        return None
    if isinstance(command, c.Deploy) and command.strategy != "rolling" and current.kind in ("canary", "preview"):
        return None  # joins the live canary: a new weight, or a preview beside it
    return locks.busy_message(command.service, command.env, current)


def _unproven(rt: Runtime, command: Command) -> str | None:
    """Refuse early an image the environment before never ran (the job checks again when it runs)."""
    if not isinstance(command, c.Deploy) or command.break_glass:
        return None
    live = locks.holder(rt.redis, command.service, command.env)
    if command.tag is None and command.strategy == "canary" and live is not None and live.kind == "canary":
        return None  # a new weight for the live canary's own image
    tag = command.tag or (images.latest(rt.redis, command.service) or {}).get("tag")
    return images.unproven(rt.redis, rt.rules, command.service, command.env, tag) if tag else None


def submit(rt: Runtime, request: ChatRequest) -> Outcome:
    """Run a chat command through parse → identity → policy → audit → RQ."""
    if not logs.request_id.get():
        logs.request_id.set(logs.new_request_id())
    who = policy.resolve(rt.rules, request.channel, request.chat_id)

    def refuse(result: str, text: str, verb: str, target: str = "") -> Outcome:
        metrics.inc(rt.redis, "dockyard_commands", verb=verb, result=result)
        audit.record(rt.redis, audit.Entry(who.user if who.known else f"?{who.chat_id}", request.channel,
                                           request.text[:200], target, result, logs.request_id.get()))
        log.info("command %s: %s", result, text.splitlines()[0])
        return Outcome(False, replies.error_message(text))

    # A time someone types ('at 14:00', '/freeze prod until 18:00') is read in their channel's zone.
    style = routing.style_of(rt.rules, rt.settings, request.reply_to)
    try:
        command = grammar.parse(request.text, datetime.now(ZoneInfo(style.zone)))
    except grammar.CommandError as exc:
        return refuse("invalid", str(exc), "invalid")
    problem = _catalog_error(rt, command)
    if problem:
        return refuse("invalid", problem, command.verb, command.target or "")
    decision = policy.check(rt.rules, who, command.action, *policy_scope(rt, command))
    if not decision.allowed:
        return refuse("refused", decision.reason, command.verb, command.target or "")
    if getattr(command, "break_glass", None):
        glass = policy.check(rt.rules, who, "breakglass", *policy_scope(rt, command))
        if not glass.allowed:
            return refuse("refused", glass.reason, command.verb, command.target or "")
    frozen = _frozen(rt, command, style)
    if frozen:
        return refuse("refused", frozen, command.verb, command.target or "")
    conflict = _rollout_conflict(rt, command)
    if conflict:
        return refuse("refused", conflict, command.verb, command.target or "")
    unproven = _unproven(rt, command)
    if unproven:
        return refuse("refused", unproven, command.verb, command.target or "")
    if command.job is None:
        return refuse("unavailable", f"/{command.verb} is understood and you may run it, but this Dockyard "
                                     f"has no {command.verb} job yet; nothing was changed", command.verb,
                      command.target or "")
    queue = command.queue
    writes = durable.batch(rt.redis)  # the job, its audit entry and its counters land together, in one round trip
    job = enqueue(rt.redis, rt.settings, queue, "jobs.dispatch.run", command.verb, pipeline=writes,
                  timeout=ROLLOUT_TIMEOUT if queue in ("rollouts", "builds") else DEFAULT_TIMEOUT,
                  command=command.to_dict(), who={"user": who.user, "channel": who.channel},
                  reply_to=request.reply_to, text=request.text[:200])
    metrics.inc(writes, "dockyard_commands", verb=command.verb, result="accepted")
    audit.record_in(writes, audit.Entry(who.user, request.channel, request.text[:200], command.target or "",
                                        "accepted", logs.request_id.get()))
    durable.commit(rt.redis, writes)
    return Outcome(True, Message(title=say(style.locale, "on it: {command}", command=request.text.strip()[:80]),
                                 ephemeral=True), job.id, command)
