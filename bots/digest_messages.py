"""The daily digest a team reads: the last 24 hours, and what is still open. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.i18n import DEFAULT_LOCALE, DIGEST_PHRASES, phrase, say
from bots.message import Message


@dataclass
class TeamDay:
    """What happened to one team's services, and what waits.

    Each item is a line jobs/digest.py wrote from the audit trail and the incidents (commands and names,
    kept as they were); the digest adds only its own words."""

    team: str
    deploys: list[str] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)


PARTS = ("deploys", "rollbacks", "approvals", "incidents", "alerts", "still open")


def _part(name: str, items: list[str], locale: str, keep: int = 8) -> tuple[str, ...]:
    if not items:
        return ()
    more = say(locale, " … and {count} more", count=len(items) - keep) if len(items) > keep else ""
    return (say(locale, "{part} ({count}): {items}{more}", part=say(locale, name), count=len(items),
                items="; ".join(phrase(locale, item, DIGEST_PHRASES) for item in items[:keep]), more=more),)


def digest(day: TeamDay, date: str, locale: str = DEFAULT_LOCALE) -> Message:
    items = (day.deploys, day.rollbacks, day.approvals, day.incidents, day.alerts, day.open)
    counts = tuple((say(locale, name), str(len(part))) for name, part in zip(PARTS, items))
    lines = tuple(line for name, part in zip(PARTS, items) for line in _part(name, part, locale))
    return Message(title=say(locale, "{team}: the last 24 hours ({date})", team=day.team, date=date), fields=counts,
                   lines=lines or (say(locale, "a quiet day: nothing changed, nothing broke"),))
