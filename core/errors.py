"""Errors that say whether a retry can help (after kopf's Permanent/Temporary)."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help (bad input, missing object): fail now and report."""


class TemporaryError(Exception):
    """Retrying should help (API down, lock busy): let the retry policy run.

    `delay` is the least wait the cause asks for (a 429's Retry-After); the job's
    next retry waits at least that long.
    """

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.delay = delay
