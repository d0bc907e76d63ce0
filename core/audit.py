"""The audit trail: every accepted command and webhook, in a capped Redis stream."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis
from redis.client import Pipeline

from core.durable import Packed, Writes, array, packed_word, raw

STREAM = "dockyard:audit"
MAX_ENTRIES = 100_000  # about a month for a busy platform; trimmed approximately


@dataclass(frozen=True)
class Entry:
    """One line of the audit trail."""

    who: str
    channel: str
    command: str
    target: str
    result: str
    request_id: str = ""
    time: float = 0.0


FIELDS = ("who", "channel", "command", "target", "result", "request_id", "time")
# XADD with its options and field names packed once (core.durable): a request packs only its values
_XADD = array(6 + 2 * len(FIELDS)) + b"".join(packed_word(raw(w))
                                              for w in ("XADD", STREAM, "MAXLEN", "~", MAX_ENTRIES, "*"))
_NAMES = tuple(packed_word(name.encode()) for name in FIELDS)
_WORDS = 1 + 6 + 2 * len(FIELDS)


def _fields(entry: Entry) -> dict[str, str]:
    # spelled out: dataclasses.asdict deep-copies, which cost more than the rest of an audit write
    return {"who": str(entry.who), "channel": str(entry.channel), "command": str(entry.command),
            "target": str(entry.target), "result": str(entry.result), "request_id": str(entry.request_id),
            "time": str(entry.time or time.time())}


def record(redis: Redis, entry: Entry) -> str:
    """Append an entry; returns its stream id."""
    return redis.xadd(STREAM, _fields(entry), maxlen=MAX_ENTRIES, approximate=True).decode()


def record_in(writes: Pipeline | Writes, entry: Entry) -> None:
    """Append an entry as part of a batch of writes (core.durable): it lands exactly when they do."""
    if isinstance(writes, Writes):
        writes.add_packed(Packed(_XADD + b"".join(name + packed_word(value.encode())
                                                  for name, value in zip(_NAMES, _fields(entry).values())), _WORDS))
    else:
        writes.xadd(STREAM, _fields(entry), maxlen=MAX_ENTRIES, approximate=True)


def since(redis: Redis, seconds: float, limit: int = 1000) -> list[Entry]:
    """Entries from the last `seconds`, oldest first."""
    start_ms = int((time.time() - seconds) * 1000)
    rows = redis.xrange(STREAM, min=f"{start_ms}-0", max="+", count=limit)
    entries = []
    for _id, raw in rows:
        data = {k.decode(): v.decode() for k, v in raw.items()}
        data["time"] = float(data.get("time") or 0)
        entries.append(Entry(**{k: data.get(k, "") for k in Entry.__dataclass_fields__}))
    return entries


def format_entry(entry: Entry) -> str:
    """One audit line for a terminal."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.time))
    return f"{when}  {entry.channel:<9} {entry.who:<10} {entry.result:<9} {entry.target:<10} {entry.command}"
