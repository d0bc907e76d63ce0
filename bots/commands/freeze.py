"""/freeze and /unfreeze: hold changes to an environment until a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Freeze(Command):
    verb: ClassVar[str] = "freeze"
    job: ClassVar[str | None] = "jobs.freezes.freeze_command"
    env: str
    until: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Unfreeze(Command):
    verb: ClassVar[str] = "unfreeze"
    job: ClassVar[str | None] = "jobs.freezes.unfreeze_command"
    env: str


@verb("freeze", "/freeze <env> until <time> [reason]", "refuse every change to an environment until a time (an SRE may --break-glass)")
def parse_freeze(t: Tokens, now: datetime) -> Command:
    env = t.env()
    if not t.accept("until"):
        raise t.fail("missing 'until <time>'")
    until = t.time(t.take("time after until"), now)
    return Freeze(env=env, until=until, reason=t.rest())


@verb("unfreeze", "/unfreeze <env>", "lift a freeze")
def parse_unfreeze(t: Tokens, now: datetime) -> Command:
    env = t.env()
    t.done()
    return Unfreeze(env=env)
