"""Durations as people type them ('90s', '30m', '2h', '7d'). Pure."""

from __future__ import annotations

import re

DURATION = re.compile(r"^(\d{1,6})([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def to_seconds(text: str) -> int | None:
    """Seconds in '30m', or None when the text is not a duration."""
    match = DURATION.match(text)
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)] if match else None


def human(seconds: int) -> str:
    """The shortest exact way to say it: 7200 -> '2h', 90 -> '90s'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
