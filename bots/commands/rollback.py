"""/rollback: go back to the previous or a named revision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Rollback(Command):
    verb: ClassVar[str] = "rollback"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.rollout.rollback_command"
    changes: ClassVar[bool] = True
    service: str
    revision: int | None = None
    env: str = "test"
    break_glass: str | None = None


@verb("rollback", "/rollback <svc> [to <revision>] [in <env>] [--break-glass <reason>]", "go back to the previous or a named revision")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    revision = None
    if t.accept("to"):
        revision = t.integer("revision", t.take("revision number"), 1, 999999)
    env = t.optional_env("test")
    glass = t.break_glass()
    t.done()
    return Rollback(service=service, revision=revision, env=env or "test", break_glass=glass)
