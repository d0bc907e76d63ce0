"""Messages about freezes: started, lifted, a change refused, a freeze broken. Pure."""

from __future__ import annotations

from datetime import datetime

from bots.i18n import moment
from bots.message import Message
from state.freezes import Freeze


def _when(at: datetime | None, zone: str) -> str:
    if at is None:
        return "the end of the window"
    return moment(at, zone, seconds=False)


def refusal(freeze: Freeze, zone: str) -> str:
    """One line: who froze it, why, until when, and the way out."""
    return (f"{freeze.env} is frozen by {freeze.by} until {_when(freeze.until, zone)}: {freeze.reason}; "
            f"an SRE may add --break-glass <reason>")


def started(freeze: Freeze, zone: str) -> Message:
    return Message(title=f"{freeze.env} frozen until {_when(freeze.until, zone)}", severity="warning",
                   fields=(("by", freeze.by), ("reason", freeze.reason)),
                   lines=("every change to it is refused until then; an SRE may --break-glass <reason>",))


def lifted(env: str, who: str, previous: Freeze | None) -> Message:
    was = f" (frozen by {previous.by}: {previous.reason})" if previous else " (it was not frozen)"
    return Message(title=f"{env} unfrozen by {who}{was}", severity="success")


def broken(command: str, who: str, reason: str, freeze: Freeze, zone: str) -> Message:
    """Announced in the channel: a change went through a freeze."""
    return Message(title=f"break glass: {who} ran {command} in frozen {freeze.env}", severity="warning",
                   fields=(("reason", reason), ("frozen by", freeze.by), ("freeze", freeze.reason),
                           ("until", _when(freeze.until, zone))))
