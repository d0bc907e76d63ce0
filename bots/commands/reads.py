"""/status, /history and /logs: what runs, what ran, what it printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Status(Command):
    verb: ClassVar[str] = "status"
    job: ClassVar[str | None] = "jobs.reads.status"
    service: str
    env: str | None = None  # None: every environment


@dataclass(frozen=True)
class History(Command):
    verb: ClassVar[str] = "history"
    job: ClassVar[str | None] = "jobs.reads.history"
    service: str
    env: str = "test"


@dataclass(frozen=True)
class Logs(Command):
    verb: ClassVar[str] = "logs"
    job: ClassVar[str | None] = "jobs.reads.logs"
    service: str
    tail: int = 100
    env: str = "test"
    previous: bool = False  # the lines of the container that ended before the running one (a crash, an OOM)


@verb("status", "/status <svc> [in <env>]", "replicas, images, canary weight and recent warnings")
def parse_status(t: Tokens, now: datetime) -> Command:
    service = t.service()
    env = t.optional_env(None)
    t.done()
    return Status(service=service, env=env)


@verb("history", "/history <svc> [in <env>]", "revisions with image, who and when")
def parse_history(t: Tokens, now: datetime) -> Command:
    service = t.service()
    env = t.optional_env("test")
    t.done()
    return History(service=service, env=env or "test")


@verb("logs", "/logs <svc> [--tail N] [--previous] [in <env>]",
      "last lines of the service's pods (--previous: of the container that crashed before)")
def parse_logs(t: Tokens, now: datetime) -> Command:
    service = t.service()
    tail, previous, seen = 100, False, set()
    while (option := t.accept("--tail", "--previous")) is not None:  # in either order, each once
        if option in seen:
            raise t.fail(f"{option} is given twice")
        seen.add(option)
        if option == "--tail":
            tail = t.integer("--tail", t.take("number of lines after --tail"), 1, 1000)
        else:
            previous = True
    env = t.optional_env("test")
    t.done()
    return Logs(service=service, tail=tail, env=env or "test", previous=previous)
