"""The one command grammar for Slack, DingTalk and the console: text in, Command out.

Pure: no I/O, no catalog lookups (the pipeline checks the service exists).
Every failure is a CommandError with a one-line reason and the command's usage.
Each verb's own words are read by its parser in bots/commands/.
"""

from __future__ import annotations

import shlex
from datetime import datetime, timezone

from bots.commands import REGISTRY, Command, CommandError, Tokens

MAX_TEXT = 2000

__all__ = ["CommandError", "parse"]


def parse(text: str, now: datetime | None = None) -> Command:
    """Parse one chat command ('/deploy web canary 10%'); raise CommandError when it is wrong."""
    now = now or datetime.now(timezone.utc)
    if not isinstance(text, str) or not text.strip():
        raise CommandError("empty command; try /help")
    if len(text) > MAX_TEXT:
        raise CommandError(f"command is {len(text)} characters long; the limit is {MAX_TEXT}")
    try:
        words = shlex.split(text.strip())
    except ValueError as exc:
        raise CommandError(f"cannot read the command: {exc} (check your quotes)") from None
    if not words:
        raise CommandError("empty command; try /help")
    verb = words[0].lstrip("/").lower()
    if verb not in REGISTRY:
        raise CommandError(f"unknown command {words[0]!r}; try /help for the list")
    return REGISTRY[verb].parse(Tokens(verb, words[1:]), now)
