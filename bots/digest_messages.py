"""The daily digest a team reads: the last 24 hours, and what is still open. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.message import Message


@dataclass
class TeamDay:
    """What happened to one team's services, and what waits."""

    team: str
    deploys: list[str] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)


def _part(name: str, items: list[str], keep: int = 8) -> tuple[str, ...]:
    if not items:
        return ()
    more = f" … and {len(items) - keep} more" if len(items) > keep else ""
    return (f"{name} ({len(items)}): " + "; ".join(items[:keep]) + more,)


def digest(day: TeamDay, date: str) -> Message:
    counts = (("deploys", str(len(day.deploys))), ("rollbacks", str(len(day.rollbacks))),
              ("approvals", str(len(day.approvals))), ("incidents", str(len(day.incidents))),
              ("alerts", str(len(day.alerts))), ("still open", str(len(day.open))))
    lines = (_part("deploys", day.deploys) + _part("rollbacks", day.rollbacks) + _part("approvals", day.approvals)
             + _part("incidents", day.incidents) + _part("alerts", day.alerts) + _part("still open", day.open))
    return Message(title=f"{day.team}: the last 24 hours ({date})", fields=counts,
                   lines=lines or ("a quiet day: nothing changed, nothing broke",))
