"""The jobs behind /freeze and /unfreeze, and the freeze check every change passes at run time."""

from __future__ import annotations

from datetime import datetime, timezone

from rq import get_current_job

from bots import freeze_messages as say
from bots.commands import Command, Freeze, Unfreeze
from core import audit, runtime
from core.errors import PermanentError
from jobs.notify import deliver
from rules import routing
from state import freezes


def _announce(env: str, message, reply_to: dict) -> None:
    """Where the environment's freezes are heard: the channels routing gives kind=freeze, and the asker."""
    rt = runtime.get()
    targets = routing.targets_for(rt.rules, {"env": env, "kind": "freeze"})
    for target in [reply_to] + [t for t in targets if t != reply_to]:
        deliver(target, message)


def freeze_command(cmd: Freeze, who: str, reply_to: dict) -> None:
    rt = runtime.get()
    freeze = freezes.start(rt.redis, cmd.env, cmd.until, who, cmd.reason or "no reason given")
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/freeze {cmd.env}", cmd.env, "frozen"))
    _announce(cmd.env, say.started(freeze, rt.settings.timezone), reply_to)


def unfreeze_command(cmd: Unfreeze, who: str, reply_to: dict) -> None:
    rt = runtime.get()
    previous = freezes.lift(rt.redis, cmd.env)
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/unfreeze {cmd.env}", cmd.env, "unfrozen"))
    _announce(cmd.env, say.lifted(cmd.env, who, previous), reply_to)
    held = freezes.recurring(rt.rules, cmd.env, datetime.now(timezone.utc), rt.settings.timezone)
    if held is not None:
        deliver(reply_to, say.started(held, rt.settings.timezone))  # /unfreeze cannot lift a policy window


def check(cmd: Command, who: str, reply_to: dict) -> None:
    """At run time (a queued or timed change may meet a freeze that began since): refuse, or announce the break."""
    env = getattr(cmd, "env", None)
    if not cmd.gated or env is None:
        return
    rt = runtime.get()
    freeze = freezes.active(rt.redis, rt.rules, env, zone=rt.settings.timezone)
    if freeze is None:
        return
    reason = getattr(cmd, "break_glass", None)
    if not reason:
        raise PermanentError(say.refusal(freeze, rt.settings.timezone))
    text = f"/{cmd.verb} {getattr(cmd, 'service', '')}".strip()
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"break glass: {reason} (freeze)",
                                       getattr(cmd, "service", env), "break-glass"))
    message = say.broken(text, who, reason, freeze, rt.settings.timezone)
    job = get_current_job()
    labels = routing.service_labels(rt.rules, cmd.service, env=env, kind="freeze") if getattr(cmd, "service", None) \
        else {"env": env, "kind": "freeze"}
    for target in [reply_to] + [t for t in routing.targets_for(rt.rules, labels) if t != reply_to]:
        deliver(target, message, dedupe_key=f"break-glass:{job.id}:{target}" if job else None)
