"""/silence: silence an alert in Alertmanager (or a service's health messages), list or expire silences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb

ALERTNAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:-]{0,199}$")  # '-' for catalog services (health mutes)
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")  # Alertmanager's alert fingerprint; often starts with a digit
SILENCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Silence(Command):
    verb: ClassVar[str] = "silence"
    job: ClassVar[str | None] = "jobs.silences.create_command"
    matcher: str
    duration_seconds: int
    comment: str | None = None


@dataclass(frozen=True)
class SilenceList(Command):
    verb: ClassVar[str] = "silence"
    job: ClassVar[str | None] = "jobs.silences.listing_command"


@dataclass(frozen=True)
class SilenceExpire(Command):
    verb: ClassVar[str] = "silence"
    job: ClassVar[str | None] = "jobs.silences.expire_command"
    silence_id: str


@verb("silence", "/silence <alertname|fingerprint> <duration> [comment]  ·  /silence list  ·  /silence expire <id>",
      "silence an alert in Alertmanager, list or expire silences")
def parse(t: Tokens, now: datetime) -> Command:
    first = t.take("alert name or fingerprint, or list / expire")
    if first == "list":
        t.done()
        return SilenceList()
    if first == "expire":
        ident = t.take("silence id")
        if not SILENCE_ID.match(ident):
            raise t.fail(f"{ident!r} is not a silence id (a UUID, as /silence list shows)")
        t.done()
        return SilenceExpire(silence_id=ident)
    if not (ALERTNAME.match(first) or FINGERPRINT.match(first)):
        raise t.fail(f"{first!r} is not an alert name or fingerprint")
    duration = t.duration("duration", t.take("duration, like 2h"), 60, 30 * 86400)
    return Silence(matcher=first, duration_seconds=duration, comment=t.rest())
