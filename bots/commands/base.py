"""What every chat command shares: the typed base, the verb registry, and the token cursor.

A verb is defined once, in its own module: its usage, its one-line summary, its
parser (registered with @verb) and its command classes, each of which says
which queue it runs on, which job runs it (a dotted path, as RQ stores jobs)
and whether it changes an environment. The grammar, /help, the pipeline and the
dispatching job all read these definitions. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from core import durations
from rules.models import ENV_NAME, SERVICE_NAME

Queue = str  # commands | rollouts | builds


class CommandError(ValueError):
    """A command that cannot be run as typed: `reason` plus the `usage` to fix it."""

    def __init__(self, reason: str, usage: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.reason}\nusage: {self.usage}" if self.usage else self.reason


@dataclass(frozen=True)
class Command:
    """Base of every parsed command; `verb` is also the action policy checks."""

    verb: ClassVar[str] = ""
    queue: ClassVar[Queue] = "commands"
    # The job that runs it: "module.function", called as f(command, who, reply_to); a returned
    # Message is the answer. None: understood and policy-checked, but no job yet.
    job: ClassVar[str | None] = None
    changes: ClassVar[bool] = False  # changes an environment: needs its approval where required

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        COMMAND_TYPES[cls.__name__] = cls

    @property
    def action(self) -> str:
        return self.verb

    @property
    def gated(self) -> bool:
        """Does it change an environment now: its approval rule and its freezes apply."""
        return self.changes

    @property
    def target(self) -> str | None:
        """The service (or environment, or id) the command acts on, for audit."""
        for name in ("service", "env", "approval_id", "silence_id", "schedule_id", "matcher", "topic"):
            value = getattr(self, name, None)
            if value:
                return str(value)
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an RQ job: the class name plus its fields."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return {"type": type(self).__name__, **data}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "Command":
        """Inverse of to_dict."""
        cls = COMMAND_TYPES[data["type"]]
        kwargs = {f.name: data.get(f.name) for f in fields(cls)}
        for f in fields(cls):
            if f.type in ("datetime", "datetime | None") and isinstance(kwargs[f.name], str):
                kwargs[f.name] = datetime.fromisoformat(kwargs[f.name])
        return cls(**kwargs)


COMMAND_TYPES: dict[str, type[Command]] = {}


@dataclass(frozen=True)
class Verb:
    """One chat verb: what /help says and how its words become a Command."""

    name: str
    usage: str
    summary: str
    parse: Callable[["Tokens", datetime], Command]


REGISTRY: dict[str, Verb] = {}  # in the order /help lists them


def verb(name: str, usage: str, summary: str) -> Callable:
    """Register a verb's parser (a function of its tokens and the current time)."""
    def register(parse: Callable[["Tokens", datetime], Command]) -> Callable[["Tokens", datetime], Command]:
        if name in REGISTRY:
            raise ValueError(f"verb {name!r} is defined twice")
        REGISTRY[name] = Verb(name, usage, summary, parse)
        return parse
    return register


class Tokens:
    """A cursor over the words of one command, raising CommandError with its usage."""

    def __init__(self, verb_name: str, words: list[str]):
        self.verb, self.words, self.pos = verb_name, words, 0

    def fail(self, reason: str) -> CommandError:
        return CommandError(reason, REGISTRY[self.verb].usage)

    def peek(self) -> str | None:
        return self.words[self.pos] if self.pos < len(self.words) else None

    def take(self, what: str) -> str:
        word = self.peek()
        if word is None:
            raise self.fail(f"missing {what}")
        self.pos += 1
        return word

    def accept(self, *choices: str) -> str | None:
        if self.peek() in choices:
            return self.take("")
        return None

    def rest(self) -> str | None:
        words, self.pos = self.words[self.pos:], len(self.words)
        return " ".join(words) or None

    def done(self) -> None:
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")

    def service(self) -> str:
        name = self.take("service name")
        if not SERVICE_NAME.match(name):
            raise self.fail(f"{name!r} is not a service name (lowercase letters, digits and '-', like web or order-api)")
        return name

    def env(self) -> str:
        """Any well-formed environment name: the pipeline checks it against the catalog."""
        name = self.take("environment, like test or prod")
        if not ENV_NAME.match(name):
            raise self.fail(f"{name!r} is not an environment name (lowercase letters, digits and '-', "
                            f"like test or staging)")
        return name

    def break_glass(self) -> str | None:
        """`--break-glass <reason>` at the end: an SRE's audited override (a freeze; the promotion order)."""
        if not self.accept("--break-glass"):
            return None
        reason = self.rest()
        if not reason:
            raise self.fail("--break-glass needs a reason, for the audit trail")
        return reason

    def optional_env(self, default: str | None) -> str | None:
        return self.env() if self.accept("in") else default

    def integer(self, what: str, text: str, low: int, high: int) -> int:
        if not re.fullmatch(r"\d{1,6}", text) or not low <= int(text) <= high:
            raise self.fail(f"{what} must be a whole number {low}–{high}, got {text!r}")
        return int(text)

    def duration(self, what: str, text: str, low: int, high: int) -> int:
        """'90s', '30m', '2h', '7d' -> seconds within [low, high]."""
        seconds = durations.to_seconds(text)
        if seconds is None:
            raise self.fail(f"{what} {text!r} is not a duration like 30m, 2h or 1d")
        if not low <= seconds <= high:
            raise self.fail(f"{what} {text!r} is out of range ({durations.human(low)} to {durations.human(high)})")
        return seconds

    def time(self, text: str, now: datetime) -> datetime:
        """A time to come: '2h' from now, '18:00' (next occurrence), or an ISO date/time, in `now`'s time zone."""
        if durations.DURATION.match(text):
            return now + timedelta(seconds=self.duration("time", text, 60, 90 * 86400))
        if re.fullmatch(r"\d{1,2}:\d{2}", text):
            hour, minute = map(int, text.split(":"))
            if hour > 23 or minute > 59:
                raise self.fail(f"{text!r} is not a time of day")
            at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            return at if at > now else at + timedelta(days=1)
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(f"{text!r} is not a time: use 2h, 18:00 or 2026-12-01T09:00") from None
        at = at if at.tzinfo else at.replace(tzinfo=now.tzinfo or timezone.utc)  # the team's time zone
        if at <= now:
            raise self.fail(f"{text!r} is in the past")
        return at
