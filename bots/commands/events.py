"""/events: the Kubernetes events kept for a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Events(Command):
    verb: ClassVar[str] = "events"
    job: ClassVar[str | None] = "jobs.reads.events"
    service: str
    since_seconds: int = 3600


@verb("events", "/events <svc> [--since 1h]", "Kubernetes warnings kept for the service")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    since = 3600
    if t.accept("--since"):
        since = t.duration("--since", t.take("duration after --since"), 60, 7 * 86400)
    t.done()
    return Events(service=service, since_seconds=since)
