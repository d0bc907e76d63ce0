"""/events: the Kubernetes events kept for a service, by level and keyword."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb

LEVELS = ("all", "warning", "normal")  # as the seed teams' event pages offered them (全部, 警告, 正常)
MAX_GREP = 100


@dataclass(frozen=True)
class Events(Command):
    verb: ClassVar[str] = "events"
    job: ClassVar[str | None] = "jobs.reads.events"
    service: str
    since_seconds: int = 3600
    level: str = "all"  # all kept events; Normal ones are kept only for services whose catalog says so
    grep: str = ""  # only events whose reason, message, object, reporter or host contain it (any case)


@verb("events", "/events <svc> [--since 1h] [--level warning|normal|all] [--grep <word>]",
      "Kubernetes events kept for the service: level, reason, reporter, host, count and time")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    since, level, grep, seen = 3600, "all", "", set()
    while t.peek() is not None:  # the options in any order, each once
        option = t.take("")
        if option not in ("--since", "--level", "--grep"):
            raise t.fail(f"unexpected {option!r}: /events takes --since, --level and --grep")
        if option in seen:
            raise t.fail(f"{option} is given twice")
        seen.add(option)
        if option == "--since":
            since = t.duration("--since", t.take("duration after --since"), 60, 7 * 86400)
        elif option == "--level":
            level = t.take("level after --level (warning, normal or all)").lower()
            if level not in LEVELS:
                raise t.fail(f"--level {level!r} is not warning, normal or all")
        else:
            grep = t.take("keyword after --grep")
            if not grep.strip() or len(grep) > MAX_GREP:
                raise t.fail(f"--grep needs a keyword of 1–{MAX_GREP} characters")
    return Events(service=service, since_seconds=since, level=level, grep=grep)
