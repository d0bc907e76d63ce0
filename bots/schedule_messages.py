"""Messages about timed changes: scheduled, the list, cancelled, starting. Pure."""

from __future__ import annotations

from bots.i18n import moment
from bots.message import Button, Message
from state.schedules import Schedule


def _when(epoch: float, zone: str) -> str:
    return moment(epoch, zone, seconds=False)


def scheduled(schedule: Schedule, zone: str) -> Message:
    return Message(title=f"scheduled {schedule.id}: {schedule.text} at {_when(schedule.at, zone)}",
                   severity="success", fields=(("by", schedule.who),),
                   buttons=(Button("Cancel", "schedule", f"/schedule cancel {schedule.id}"),))


def listing(pending: list[Schedule], zone: str) -> Message:
    lines = tuple(f"{s.id}  {_when(s.at, zone)}  {s.text}  by {s.who}" for s in pending)
    return Message(title=f"{len(pending)} timed change(s) waiting", lines=lines or ("none",))


def cancelled(schedule: Schedule, who: str) -> Message:
    return Message(title=f"cancelled {schedule.id}: {schedule.text} (by {who})", severity="success")


def starting(schedule: Schedule) -> Message:
    return Message(title=f"{schedule.id} is due: {schedule.text} starts now", fields=(("asked by", schedule.who),))
