"""Timed changes: put a change on the schedule, list and cancel them, and run one when it is due."""

from __future__ import annotations

import hashlib

from rq import get_current_job

from bots import schedule_messages as say
from bots.commands import Command, ScheduleCancel, ScheduleList
from core import audit, runtime
from core.errors import PermanentError
from jobs.notify import deliver
from rules import routing
from state import schedules


def _style(target: dict) -> routing.Style:
    """How the channel that asked reads: its language, and its time zone for the due times."""
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, target)


def put(cmd: Command, who: str, reply_to: dict, text: str) -> str:
    """Hold an (already approved) change until its time; the scheduler process fires it."""
    rt = runtime.get()
    command = {**cmd.to_dict(), "at": None}  # what runs at the time is the change itself
    job = get_current_job()
    ident = "s" + hashlib.sha1(job.id.encode()).hexdigest()[:6] if job else None  # a retry schedules it once
    entry = schedules.add(rt.redis, cmd.at.timestamp(), command, text, who, reply_to,  # type: ignore[attr-defined]
                          schedule_id=ident)
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"scheduled {entry.id}: {text}",
                                       getattr(cmd, "service", ""), "scheduled"))
    style = _style(reply_to)
    deliver(reply_to, say.scheduled(entry, style.zone, style.locale), dedupe_key=f"scheduled:{entry.id}")
    return entry.id


def list_command(cmd: ScheduleList, who: str, reply_to: dict):
    rt = runtime.get()
    style = _style(reply_to)
    return say.listing(schedules.pending(rt.redis), style.zone, style.locale)


def cancel_command(cmd: ScheduleCancel, who: str, reply_to: dict):
    rt = runtime.get()
    entry = schedules.cancel(rt.redis, cmd.schedule_id)
    if entry is None:
        raise PermanentError(f"there is no timed change {cmd.schedule_id} (it ran already, or see /schedule list)")
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/schedule cancel {entry.id}",
                                       entry.command.get("service", ""), "cancelled"))
    return say.cancelled(entry, who, _style(reply_to).locale)


def run(schedule_id: str) -> str:
    """RQ entry point, enqueued by the scheduler process when the change is due: say so, then run it."""
    from jobs import dispatch  # dispatch puts changes on the schedule: a real cycle, broken here

    rt = runtime.get()
    entry = schedules.get(rt.redis, schedule_id)
    if entry is None:
        return "cancelled"
    deliver(entry.reply_to, say.starting(entry, _style(entry.reply_to).locale), dedupe_key=f"schedule-start:{entry.id}")
    return dispatch.run_now(entry.command, entry.who, entry.reply_to)
