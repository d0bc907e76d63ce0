"""/schedule: the changes waiting for their time (timed deploys), and cancelling one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb

SCHEDULE_ID = re.compile(r"^s[0-9a-f]{6}$")


@dataclass(frozen=True)
class ScheduleList(Command):
    verb: ClassVar[str] = "schedule"
    job: ClassVar[str | None] = "jobs.schedules.list_command"


@dataclass(frozen=True)
class ScheduleCancel(Command):
    verb: ClassVar[str] = "schedule"
    job: ClassVar[str | None] = "jobs.schedules.cancel_command"
    schedule_id: str

    @property
    def action(self) -> str:
        return "deploy"  # cancelling a timed change is for whoever may make it (checked on its service and env)


@verb("schedule", "/schedule list  ·  /schedule cancel <id>", "timed changes still to run, or cancel one")
def parse(t: Tokens, now: datetime) -> Command:
    what = t.take("list or cancel")
    if what == "list":
        t.done()
        return ScheduleList()
    if what != "cancel":
        raise t.fail(f"{what!r}: say list or cancel <id>")
    ident = t.take("schedule id")
    if not SCHEDULE_ID.match(ident):
        raise t.fail(f"{ident!r} is not a schedule id (like s1a2b3c, as /schedule list shows)")
    t.done()
    return ScheduleCancel(schedule_id=ident)
