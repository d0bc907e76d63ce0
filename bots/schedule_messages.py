"""Messages about timed changes: scheduled, the list, cancelled, starting. Pure.

Due times read in the zone of the channel that gets the message, with the date."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Button, Message
from state.schedules import Schedule


def _when(epoch: float, zone: str) -> str:
    return moment(epoch, zone, seconds=False)


def scheduled(schedule: Schedule, zone: str, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "scheduled {id}: {change} at {at}", id=schedule.id, change=schedule.text,
                             at=_when(schedule.at, zone)),
                   severity="success", fields=((say(locale, "by"), schedule.who),),
                   buttons=(Button(say(locale, "Cancel"), "schedule", f"/schedule cancel {schedule.id}"),))


def listing(pending: list[Schedule], zone: str, locale: str = DEFAULT_LOCALE) -> Message:
    lines = tuple(say(locale, "{id}  {at}  {change}  by {who}", id=s.id, at=_when(s.at, zone), change=s.text, who=s.who)
                  for s in pending)
    return Message(title=say(locale, "{count} timed change(s) waiting", count=len(pending)),
                   lines=lines or (say(locale, "none"),))


def cancelled(schedule: Schedule, who: str, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "cancelled {id}: {change} (by {who})", id=schedule.id, change=schedule.text, who=who),
                   severity="success")


def starting(schedule: Schedule, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{id} is due: {change} starts now", id=schedule.id, change=schedule.text),
                   fields=((say(locale, "asked by"), schedule.who),))
