"""Messages about freezes: started, lifted, a change refused, a freeze broken. Pure.

Times read in the zone of the channel that gets the message, with the date."""

from __future__ import annotations

from datetime import datetime

from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Message
from state.freezes import Freeze


def _when(at: datetime | None, zone: str, locale: str = DEFAULT_LOCALE) -> str:
    if at is None:
        return say(locale, "the end of the window")
    return moment(at, zone, seconds=False)


def _reason(freeze: Freeze, locale: str) -> str:
    """The reason as the person gave it; Dockyard's own placeholder in the channel's language."""
    return say(locale, freeze.reason) if freeze.reason == "no reason given" else freeze.reason


def refusal(freeze: Freeze, zone: str, locale: str = DEFAULT_LOCALE) -> str:
    """One line: who froze it, why, until when, and the way out."""
    return say(locale, "{env} is frozen by {by} until {until}: {reason}; an SRE may add --break-glass <reason>",
               env=freeze.env, by=freeze.by, until=_when(freeze.until, zone, locale), reason=_reason(freeze, locale))


def started(freeze: Freeze, zone: str, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{env} frozen until {until}", env=freeze.env,
                             until=_when(freeze.until, zone, locale)), severity="warning",
                   fields=((say(locale, "by"), freeze.by), (say(locale, "reason"), _reason(freeze, locale))),
                   lines=(say(locale, "every change to it is refused until then; an SRE may --break-glass <reason>"),))


def lifted(env: str, who: str, previous: Freeze | None, locale: str = DEFAULT_LOCALE) -> Message:
    was = say(locale, " (frozen by {by}: {reason})", by=previous.by, reason=_reason(previous, locale)) if previous \
        else say(locale, " (it was not frozen)")
    return Message(title=say(locale, "{env} unfrozen by {who}{was}", env=env, who=who, was=was), severity="success")


def broken(command: str, who: str, reason: str, freeze: Freeze, zone: str, locale: str = DEFAULT_LOCALE) -> Message:
    """Announced in the channel: a change went through a freeze."""
    return Message(title=say(locale, "break glass: {who} ran {command} in frozen {env}", who=who, command=command,
                             env=freeze.env), severity="warning",
                   fields=((say(locale, "reason"), reason), (say(locale, "frozen by"), freeze.by),
                           (say(locale, "freeze"), _reason(freeze, locale)),
                           (say(locale, "until"), _when(freeze.until, zone, locale))))
