"""JSON logs with a request id that follows a request into the jobs it enqueues."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# Anything shaped like a credential is masked even if a library logs it.
SECRET_SHAPES = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|glpat-[A-Za-z0-9_-]+|(?i:(?:token|secret|password|sign)=)[^&\s\"']+"
    r"|(?i:authorization:\s*\w+\s+)[^\s\"']+)"
)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def redact(text: str) -> str:
    """Mask token-shaped substrings."""
    return SECRET_SHAPES.sub(lambda m: m.group(0).split("=")[0] + "=***" if "=" in m.group(0) else "***", text)


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.msg = redact(str(record.msg))
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args) \
                if isinstance(record.args, tuple) else record.args
        return True


def setup(level: str = "INFO", process: str = "dockyard") -> None:
    """Send JSON lines to stderr for every logger, tagged with the process name."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                       static_fields={"process": process},
                                       rename_fields={"levelname": "level", "asctime": "time"}))
    handler.addFilter(_Context())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
