"""/config: the variables and files a service runs with, and where each comes from (never a Secret's value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Config(Command):
    verb: ClassVar[str] = "config"
    job: ClassVar[str | None] = "jobs.reads.config"
    service: str
    env: str = "test"


@verb("config", "/config <svc> [in <env>]", "configuration keys and their sources (values of Secrets never shown)")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    env = t.optional_env("test")
    t.done()
    return Config(service=service, env=env or "test")
