"""/help: every verb with its summary, or one verb's usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import REGISTRY, Command, Tokens, verb


@dataclass(frozen=True)
class Help(Command):
    verb: ClassVar[str] = "help"
    job: ClassVar[str | None] = "jobs.reads.help"
    topic: str | None = None


@verb("help", "/help [<command>]", "this list, or one command's usage")
def parse(t: Tokens, now: datetime) -> Command:
    topic = t.peek()
    if topic is not None:
        topic = t.take("").lstrip("/")
        if topic not in REGISTRY:
            raise t.fail(f"no command /{topic}; try /help for the list")
    t.done()
    return Help(topic=topic)
