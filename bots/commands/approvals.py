"""/approve and /reject: a second person decides on a change to a gated environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb

APPROVAL_ID = re.compile(r"^[a-z0-9]{4,32}$")


@dataclass(frozen=True)
class Approve(Command):
    verb: ClassVar[str] = "approve"
    job: ClassVar[str | None] = "jobs.approvals.approve_command"
    approval_id: str


@dataclass(frozen=True)
class Reject(Command):
    verb: ClassVar[str] = "reject"
    job: ClassVar[str | None] = "jobs.approvals.reject_command"
    approval_id: str
    reason: str | None = None


def _approval_id(t: Tokens) -> str:
    ident = t.take("approval id")
    if not APPROVAL_ID.match(ident):
        raise t.fail(f"{ident!r} is not an approval id (it is in the approval message, like 7f3a9c)")
    return ident


@verb("approve", "/approve <id>", "approve someone else's pending change")
def parse_approve(t: Tokens, now: datetime) -> Command:
    ident = _approval_id(t)
    t.done()
    return Approve(approval_id=ident)


@verb("reject", "/reject <id> [reason]", "reject a pending change")
def parse_reject(t: Tokens, now: datetime) -> Command:
    return Reject(approval_id=_approval_id(t), reason=t.rest())
