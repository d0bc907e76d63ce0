"""The one command grammar for Slack, DingTalk and the console: text in, Command out.

Pure: no I/O, no catalog lookups (the pipeline checks the service exists).
Every failure is a CommandError with a one-line reason and the command's usage.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta, timezone

from bots import commands as c
from bots.commands import USAGE, Command

ENVS = ("test", "prod")
SERVICE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
GIT_REF = re.compile(r"^(?!.*\.\.)(?!/)[A-Za-z0-9_./-]{1,200}(?<![./])$")
APPROVAL_ID = re.compile(r"^[a-z0-9]{4,32}$")
ALERTNAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:-]{0,199}$")  # '-' for catalog services (health mutes)
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")  # Alertmanager's alert fingerprint; often starts with a digit
SILENCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DURATION = re.compile(r"^(\d{1,6})([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TEXT = 2000
KEYWORDS = {"to", "in", "rolling", "canary", "preview", "promote", "abort", "--break-glass"}


class CommandError(ValueError):
    """A command that cannot be run as typed: `reason` plus the `usage` to fix it."""

    def __init__(self, reason: str, usage: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.reason}\nusage: {self.usage}" if self.usage else self.reason


class _Tokens:
    """A cursor over the words of one command, raising CommandError with its usage."""

    def __init__(self, verb: str, words: list[str]):
        self.verb, self.words, self.pos = verb, words, 0

    def fail(self, reason: str) -> CommandError:
        return CommandError(reason, USAGE[self.verb])

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
        if not SERVICE.match(name):
            raise self.fail(f"{name!r} is not a service name (lowercase letters, digits and '-', like web or order-api)")
        return name

    def env(self) -> str:
        name = self.take("environment (test or prod)")
        if name not in ENVS:
            raise self.fail(f"unknown environment {name!r}; use test or prod")
        return name

    def optional_env(self, default: str | None) -> str | None:
        return self.env() if self.accept("in") else default

    def integer(self, what: str, text: str, low: int, high: int) -> int:
        if not re.fullmatch(r"\d{1,6}", text) or not low <= int(text) <= high:
            raise self.fail(f"{what} must be a whole number {low}–{high}, got {text!r}")
        return int(text)


def parse_duration(text: str, what: str, low: int, high: int, tokens: _Tokens) -> int:
    """'90s', '30m', '2h', '7d' -> seconds within [low, high]."""
    match = DURATION.match(text)
    if not match:
        raise tokens.fail(f"{what} {text!r} is not a duration like 30m, 2h or 1d")
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if not low <= seconds <= high:
        raise tokens.fail(f"{what} {text!r} is out of range ({_human(low)} to {_human(high)})")
    return seconds


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_time(text: str, now: datetime, tokens: _Tokens) -> datetime:
    """A freeze end: '2h' from now, '18:00' (next occurrence), or an ISO date/time (UTC)."""
    if DURATION.match(text):
        return now + timedelta(seconds=parse_duration(text, "time", 60, 90 * 86400, tokens))
    if re.fullmatch(r"\d{1,2}:\d{2}", text):
        hour, minute = map(int, text.split(":"))
        if hour > 23 or minute > 59:
            raise tokens.fail(f"{text!r} is not a time of day")
        at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at if at > now else at + timedelta(days=1)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise tokens.fail(f"{text!r} is not a time: use 2h, 18:00 or 2026-12-01T09:00") from None
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    if at <= now:
        raise tokens.fail(f"{text!r} is in the past")
    return at


def _deploy(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    step = t.accept("promote", "abort")
    if step:
        env = t.optional_env("test")
        t.done()
        return c.DeployControl(service=service, step=step, env=env)  # type: ignore[arg-type]
    tag = None
    if t.peek() is not None and t.peek() not in KEYWORDS:
        tag = t.take("tag")
        if not TAG.match(tag):
            raise t.fail(f"{tag!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
    env = t.env() if t.accept("to", "in") else None
    strategy, weight = "rolling", None
    word = t.accept("rolling", "canary", "preview")
    if word == "canary":
        text = t.take("canary weight, like 10%")
        if not re.fullmatch(r"-?\d{1,6}%?", text):
            raise t.fail(f"canary weight must be a percentage like 10%, got {text!r}")
        weight = int(text.rstrip("%"))
        if not 1 <= weight <= 99:
            raise t.fail(f"canary weight must be 1–99%, got {text}")
        strategy = "canary"
    elif word:
        strategy = word
    if env is None and t.accept("to", "in"):  # the environment may also come last
        env = t.env()
    break_glass = None
    if t.accept("--break-glass"):
        break_glass = t.rest()
        if not break_glass:
            raise t.fail("--break-glass needs a reason, for the audit trail")
    t.done()
    return c.Deploy(service=service, tag=tag, env=env or "test", strategy=strategy, weight=weight,  # type: ignore[arg-type]
                    break_glass=break_glass)


def _rollback(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    revision = None
    if t.accept("to"):
        revision = t.integer("revision", t.take("revision number"), 1, 999999)
    env = t.optional_env("test")
    t.done()
    return c.Rollback(service=service, revision=revision, env=env or "test")


def _scale(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    replicas = t.integer("replicas", t.take("number of replicas"), 0, 200)
    env = t.optional_env("test")
    t.done()
    return c.Scale(service=service, replicas=replicas, env=env or "test")


def _autoscale(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    bounds = t.take("replica range, like 2-10")
    match = re.fullmatch(r"(\d{1,3})-(\d{1,3})", bounds)
    if not match:
        raise t.fail(f"replica range must look like 2-10, got {bounds!r}")
    low, high = int(match.group(1)), int(match.group(2))
    if not 1 <= low <= high <= 200:
        raise t.fail(f"replica range must satisfy 1 ≤ min ≤ max ≤ 200, got {bounds}")
    cpu = 80
    if t.peek() and t.peek().startswith("cpu="):  # type: ignore[union-attr]
        text = t.take("")[4:]
        if not re.fullmatch(r"\d{1,3}%?", text) or not 1 <= int(text.rstrip("%")) <= 100:
            raise t.fail(f"cpu target must be 1–100%, got {text!r}")
        cpu = int(text.rstrip("%"))
    env = t.optional_env("test")
    t.done()
    return c.Autoscale(service=service, min_replicas=low, max_replicas=high, cpu_percent=cpu, env=env or "test")


def _service_env(cls: type[Command], default_env: str | None):
    def parse(t: _Tokens, now: datetime) -> Command:
        service = t.service()
        env = t.optional_env(default_env)
        t.done()
        return cls(service=service, env=env)  # type: ignore[call-arg]
    return parse


def _logs(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    tail = 100
    if t.accept("--tail"):
        tail = t.integer("--tail", t.take("number of lines after --tail"), 1, 1000)
    env = t.optional_env("test")
    t.done()
    return c.Logs(service=service, tail=tail, env=env or "test")


def _events(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    since = 3600
    if t.accept("--since"):
        since = parse_duration(t.take("duration after --since"), "--since", 60, 7 * 86400, t)
    t.done()
    return c.Events(service=service, since_seconds=since)


def _build(t: _Tokens, now: datetime) -> Command:
    service = t.service()
    ref = None
    if t.peek() is not None:
        ref = t.take("git ref")
        if not GIT_REF.match(ref):
            raise t.fail(f"{ref!r} is not a git branch, tag or commit")
    t.done()
    return c.Build(service=service, ref=ref)


def _approval_id(t: _Tokens) -> str:
    ident = t.take("approval id")
    if not APPROVAL_ID.match(ident):
        raise t.fail(f"{ident!r} is not an approval id (it is in the approval message, like 7f3a9c)")
    return ident


def _approve(t: _Tokens, now: datetime) -> Command:
    ident = _approval_id(t)
    t.done()
    return c.Approve(approval_id=ident)


def _reject(t: _Tokens, now: datetime) -> Command:
    return c.Reject(approval_id=_approval_id(t), reason=t.rest())


def _silence(t: _Tokens, now: datetime) -> Command:
    first = t.take("alert name or fingerprint, or list / expire")
    if first == "list":
        t.done()
        return c.SilenceList()
    if first == "expire":
        ident = t.take("silence id")
        if not SILENCE_ID.match(ident):
            raise t.fail(f"{ident!r} is not a silence id (a UUID, as /silence list shows)")
        t.done()
        return c.SilenceExpire(silence_id=ident)
    if not (ALERTNAME.match(first) or FINGERPRINT.match(first)):
        raise t.fail(f"{first!r} is not an alert name or fingerprint")
    duration = parse_duration(t.take("duration, like 2h"), "duration", 60, 30 * 86400, t)
    return c.Silence(matcher=first, duration_seconds=duration, comment=t.rest())


def _freeze(t: _Tokens, now: datetime) -> Command:
    env = t.env()
    if not t.accept("until"):
        raise t.fail("missing 'until <time>'")
    until = parse_time(t.take("time after until"), now, t)
    return c.Freeze(env=env, until=until, reason=t.rest())


def _unfreeze(t: _Tokens, now: datetime) -> Command:
    env = t.env()
    t.done()
    return c.Unfreeze(env=env)


def _help(t: _Tokens, now: datetime) -> Command:
    topic = t.peek()
    if topic is not None:
        topic = t.take("").lstrip("/")
        if topic not in USAGE:
            raise t.fail(f"no command /{topic}; try /help for the list")
    t.done()
    return c.Help(topic=topic)


PARSERS = {
    "deploy": _deploy, "rollback": _rollback, "scale": _scale, "autoscale": _autoscale,
    "status": _service_env(c.Status, None), "history": _service_env(c.History, "test"),
    "restart": _service_env(c.Restart, "test"), "logs": _logs, "events": _events, "build": _build,
    "approve": _approve, "reject": _reject, "silence": _silence, "freeze": _freeze,
    "unfreeze": _unfreeze, "help": _help,
}


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
    if verb not in PARSERS:
        raise CommandError(f"unknown command {words[0]!r}; try /help for the list")
    return PARSERS[verb](_Tokens(verb, words[1:]), now)
