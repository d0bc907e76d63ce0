"""JSON logs with a request id that follows a request into the jobs it enqueues.

Every line is redacted and capped on its way out, whoever logged it: libraries
(bolt, gunicorn, Flask) put request bodies, URLs and exception text in their
messages, and those carry credentials and capabilities (link tokens, Slack
response URLs) that must not end up in a log store.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

MAX_MESSAGE = 4000  # characters of one message: room for a long chat reply, not for a 1 MB request body
MAX_TRACEBACK = 8000  # characters of one exception's text

# Anything shaped like a credential or a capability is masked, even if a library logs it.
# (pattern, replacement) pairs, applied in order.
SECRET_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # An action link's path is the capability itself: /actions/<token>.
    (re.compile(r"(?i)/actions(?:/|%2F)[^/\s?#\"'<>]+"), "/actions/<redacted>"),
    # Slack's response_url lets anyone post to the channel for 30 minutes; also URL-encoded in form bodies.
    (re.compile(r"(?i)https?(?::|%3A)(?://|%2F%2F)hooks\.slack\.com[^\s\"'&]*"), "https://hooks.slack.com/***"),
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]+|glpat-[A-Za-z0-9_-]+"), "***"),
    (re.compile(r"(?i)((?:token|secret|password|sign|signature|session)=)[^&\s\"']+"), r"\1***"),
    (re.compile(r"(?i)(authorization:\s*\w+\s+)[^\s\"']+"), r"\1***"),
)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def redact(text: str) -> str:
    """Mask token-shaped substrings."""
    for pattern, replacement in SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


def cap(text: str, limit: int = MAX_MESSAGE) -> str:
    """At most `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters cut)"


class Redacting(logging.Filter):
    """Redacts and caps the message of every record it sees (also used on gunicorn's own loggers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in some library: log what we were given, still redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = cap(redact(message)), None
        return True


class _Formatter(JsonFormatter):
    """JSON lines whose exception and stack text are redacted and capped like messages."""

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return cap(redact(super().formatException(ei)), MAX_TRACEBACK)

    def formatStack(self, stack_info: str) -> str:
        return cap(redact(super().formatStack(stack_info)), MAX_TRACEBACK)


def setup(level: str = "INFO", process: str = "dockyard") -> None:
    """Send JSON lines to stderr for every logger, tagged with the process name."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                    static_fields={"process": process},
                                    rename_fields={"levelname": "level", "asctime": "time"}))
    handler.addFilter(Redacting())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
