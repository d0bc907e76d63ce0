"""The job behind every accepted chat command: gate it, run the command's own job, answer where it was asked."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from rq import get_current_job

from bots.commands import Command
from bots.message import Message
from core import runtime
from core.errors import PermanentError
from jobs import approvals, freezes, schedules
from jobs.notify import deliver

Job = Callable[[Command, str, dict], Message | None]


def job_of(command: Command) -> Job:
    """The function the command's class names (`module.function`), imported when first needed."""
    if command.job is None:
        raise PermanentError(f"/{command.verb} has no job in this Dockyard yet")
    module, _, name = command.job.rpartition(".")
    return getattr(importlib.import_module(module), name)


def needs_approval(command: Command) -> bool:
    """Every change to an environment marked `approval: required` waits for a second person.

    Aborting, pausing or resuming a canary are the exceptions (Command.gated says which).
    """
    if not command.gated:
        return False
    service = runtime.get().rules.catalog.services[command.service]  # type: ignore[attr-defined]
    return service.environments[command.env].approval == "required"  # type: ignore[attr-defined]


def _answer(command: Command, who: str, reply_to: dict) -> str:
    job = get_current_job()
    message = job_of(command)(command, who, reply_to)
    if message is None:  # a change tells its own progress where it was asked
        return "done"
    return deliver(reply_to, message, dedupe_key=f"reply:{job.id}" if job else None) or ""


def run_approved(command: dict, who: dict, reply_to: dict) -> str:
    """RQ entry point for a change whose approval was just given (never asks again)."""
    cmd = Command.from_dict(command)
    by = f"{who['user']} (approved by {who['approved_by']})"
    if getattr(cmd, "at", None) is not None:  # approved at request time, runs at its time
        return schedules.put(cmd, by, reply_to, _text(cmd))
    return run_now(command, by, reply_to)


def run_now(command: dict, who: str, reply_to: dict) -> str:
    """Run an approved or due change: a freeze that began since still holds it."""
    cmd = Command.from_dict(command)
    freezes.check(cmd, who, reply_to)
    return _answer(cmd, who, reply_to)


def _text(cmd: Command) -> str:
    job = get_current_job()
    return (job.meta.get("command_text") if job else None) or f"/{cmd.verb} {getattr(cmd, 'service', '')}".strip()


def run(command: dict, who: dict, reply_to: dict, text: str = "") -> str:
    """RQ entry point: run one parsed command and deliver the answer."""
    job = get_current_job()
    cmd = Command.from_dict(command)
    if job is not None and text:
        job.meta["command_text"] = text
        job.save_meta()
    if needs_approval(cmd):
        approvals.request(cmd.to_dict(), who.get("user", "?"), reply_to)
        return "approval requested"
    if getattr(cmd, "at", None) is not None:
        return schedules.put(cmd, who.get("user", "?"), reply_to, text or _text(cmd))
    freezes.check(cmd, who.get("user", "?"), reply_to)
    return _answer(cmd, who.get("user", "?"), reply_to)
