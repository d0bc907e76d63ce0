"""/restart: restart every pod of a service, one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Restart(Command):
    verb: ClassVar[str] = "restart"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.replicas.restart_command"
    changes: ClassVar[bool] = True
    service: str
    env: str = "test"
    break_glass: str | None = None


@verb("restart", "/restart <svc> [in <env>] [--break-glass <reason>]", "restart every pod, one at a time")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    env = t.optional_env("test")
    glass = t.break_glass()
    t.done()
    return Restart(service=service, env=env or "test", break_glass=glass)
