"""The jobs behind /freeze and /unfreeze, and the freeze check every change passes at run time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from rq import get_current_job

from bots import freeze_messages as say
from bots.commands import Command, Freeze, Unfreeze
from bots.message import Message
from core import audit, runtime
from core.errors import PermanentError
from jobs.notify import deliver
from rules import routing
from state import freezes


def _style(target: dict) -> routing.Style:
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, target)


def _announce(env: str, message: Callable[[routing.Style], Message], reply_to: dict) -> None:
    """Where the environment's freezes are heard: the channels routing gives kind=freeze, and the asker,
    each in its own language and time zone."""
    rt = runtime.get()
    targets = routing.targets_for(rt.rules, {"env": env, "kind": "freeze"})
    for target in [reply_to] + [t for t in targets if t != reply_to]:
        deliver(target, message(_style(target)))


def freeze_command(cmd: Freeze, who: str, reply_to: dict) -> None:
    rt = runtime.get()
    freeze = freezes.start(rt.redis, cmd.env, cmd.until, who, cmd.reason or "no reason given")
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/freeze {cmd.env}", cmd.env, "frozen"))
    _announce(cmd.env, lambda style: say.started(freeze, style.zone, style.locale), reply_to)


def unfreeze_command(cmd: Unfreeze, who: str, reply_to: dict) -> None:
    rt = runtime.get()
    previous = freezes.lift(rt.redis, cmd.env)
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/unfreeze {cmd.env}", cmd.env, "unfrozen"))
    _announce(cmd.env, lambda style: say.lifted(cmd.env, who, previous, style.locale), reply_to)
    # The policy's windows are the organisation's, kept in DOCKYARD_TIMEZONE; the asker reads the end in theirs.
    held = freezes.recurring(rt.rules, cmd.env, datetime.now(timezone.utc), rt.settings.timezone)
    if held is not None:
        style = _style(reply_to)
        deliver(reply_to, say.started(held, style.zone, style.locale))  # /unfreeze cannot lift a policy window


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
        style = _style(reply_to)
        raise PermanentError(say.refusal(freeze, style.zone, style.locale))
    text = f"/{cmd.verb} {getattr(cmd, 'service', '')}".strip()
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"break glass: {reason} (freeze)",
                                       getattr(cmd, "service", env), "break-glass"))
    job = get_current_job()
    labels = routing.service_labels(rt.rules, cmd.service, env=env, kind="freeze") if getattr(cmd, "service", None) \
        else {"env": env, "kind": "freeze"}
    for target in [reply_to] + [t for t in routing.targets_for(rt.rules, labels) if t != reply_to]:
        style = _style(target)
        deliver(target, say.broken(text, who, reason, freeze, style.zone, style.locale), dedupe_key=f"break-glass:{job.id}:{target}" if job else None)
