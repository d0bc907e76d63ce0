"""/build: what a push would do, without the push."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb

GIT_REF = re.compile(r"^(?!.*\.\.)(?!/)[A-Za-z0-9_./-]{1,200}(?<![./])$")


@dataclass(frozen=True)
class Build(Command):
    verb: ClassVar[str] = "build"
    queue: ClassVar[str] = "builds"
    job: ClassVar[str | None] = "jobs.build.build_command"
    service: str
    ref: str | None = None


@verb("build", "/build <svc> [<ref>]", "build an image from a git ref")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    ref = None
    if t.peek() is not None:
        ref = t.take("git ref")
        if not GIT_REF.match(ref):
            raise t.fail(f"{ref!r} is not a git branch, tag or commit")
    t.done()
    return Build(service=service, ref=ref)
