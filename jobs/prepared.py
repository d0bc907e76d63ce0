"""jobs.queues.enqueue for one kind of job, recorded once per process, then written per job with its own values.

RQ builds a Job object, serialises each field and redis-py encodes each word on every enqueue; for a
webhook that answers in a fraction of a millisecond that was most of the request (issue #18). What
enqueue() writes for one queue, function, kind and timeout differs between two jobs only in the job
id, its creation and enqueue times, its data (function and arguments, pickled and compressed), its
description and its meta (the request id). So enqueue() itself is recorded twice, with different
values, and every word that differs between the two must be one of those: the rest stays packed, and
a job costs only its own words. The job is the one RQ would have written (tests/test_prepared.py
compares them word by word), so workers run, retry and report it as usual.

If the recordings differ anywhere else (an RQ upgrade that writes something new per job), the
template is refused and every job goes through enqueue(), with a warning: slower, never wrong.
"""

from __future__ import annotations

import logging
import re
import zlib
from datetime import datetime
from typing import Any
from uuid import uuid4

from redis import Redis
from rq.utils import get_call_string, now

from core import logs
from core.config import Settings
from core.durable import Packed, Writes, array, pack, packed_word, raw
from jobs.queues import enqueue

log = logging.getLogger("dockyard.jobs")
TIMES = (b"created_at", b"enqueued_at")
COMPUTED = (b"data", b"description", b"meta")
DESCRIPTION_LENGTH = 75  # what rq.job.Job.get_call_string truncates each argument's repr to
_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def merged(commands: list[list[bytes]]) -> list[list[bytes]]:
    """RQ's HSETs of one job hash as one HSET (its fields in the same order): the same hash, one command less.

    RQ sets `status` alone, then every field (status again among them); a field given twice in one
    HSET takes its last value, exactly as two HSETs in a row would leave it.
    """
    out: list[list[bytes]] = []
    for words in commands:
        if words[0] == b"HSET" and out and out[-1][0] == b"HSET" and out[-1][1] == words[1]:
            out[-1] = out[-1] + words[2:]
        else:
            out.append(list(words))
    return out


class Prepared:
    """Writes the jobs of one (queue, func, kind, timeout) as enqueue() would, at a fraction of its cost."""

    def __init__(self, redis: Redis, settings: Settings, queue: str, func: str, kind: str, timeout: int):
        self.redis, self.settings, self.queue, self.func, self.kind, self.timeout = (
            redis, settings, queue, func, kind, timeout)
        first, self._serializer = self._record("dockyard-prepared-a", "request-a", {"value": "a"})
        probe = {"value": "bb", "more": 2, "long": {"text": "é" * 100}}  # a repr RQ's description truncates
        second, _ = self._record("dockyard-prepared-b", "request-bb", probe)
        self.words = sum(1 + len(words) for words in first)  # each command: its word count, then its words
        self.template: bytes | None
        self.template, self.holes = self._template(first, "dockyard-prepared-a")
        problem = self._check(second, "dockyard-prepared-b", "request-bb", probe)
        if problem:
            log.warning("jobs %s are enqueued the slow way: %s (RQ writes something new per job)", func, problem)
            self.template = None

    def _record(self, job_id: str, request_id: str, kwargs: dict) -> tuple[list[list[bytes]], Any]:
        """What enqueue() writes for this job, word by word (its HSETs merged), and the serializer its job used."""
        pipeline = self.redis.pipeline(transaction=False)  # records only; never executed
        token = logs.request_id.set(request_id)
        try:
            job = enqueue(self.redis, self.settings, self.queue, self.func, self.kind, pipeline=pipeline,
                          job_id=job_id, timeout=self.timeout, **kwargs)
        finally:
            logs.request_id.reset(token)
        return merged([[raw(w) for w in args] for args, _options in pipeline.command_stack]), job.serializer

    @staticmethod
    def _template(commands: list[list[bytes]], job_id: str) -> tuple[bytes, tuple[tuple[bytes, int], ...]]:
        """The packed commands as one %-format, and its holes: (what goes there, the length around it).

        A hole is a word that is a constant prefix + a per-job value + a constant suffix (the job's id
        inside a key, a time, its data); it is written as its length and its bytes, the `%d` and `%b`
        that render() fills in one `%` operation, far cheaper than joining a part per word.
        """
        template: list[bytes] = []
        holes: list[tuple[bytes, int]] = []
        placeholder = job_id.encode()
        for words in commands:
            template.append(array(len(words)).replace(b"%", b"%%"))
            for i, word in enumerate(words):
                field = words[i - 1] if words[0] == b"HSET" and i >= 3 and i % 2 == 1 else None
                if field in TIMES or field in COMPUTED:
                    prefix, what, suffix = b"", field, b""
                elif placeholder in word:
                    (prefix, _, suffix), what = word.partition(placeholder), b"id"
                else:
                    template.append(packed_word(word).replace(b"%", b"%%"))
                    continue
                template.append(b"$%d\r\n" + prefix.replace(b"%", b"%%") + b"%b" + suffix.replace(b"%", b"%%")
                                + b"\r\n")
                holes.append((what, len(prefix) + len(suffix)))
        return b"".join(template), tuple(holes)

    def _check(self, commands: list[list[bytes]], job_id: str, request_id: str, kwargs: dict) -> str:
        """'' when the template renders the second recording exactly (its times taken from it), else why not."""
        if self.template is None:
            return "no template"
        recorded = b"".join(pack(words).data for words in commands)
        times = {}
        for words in commands:
            if words[0] == b"HSET":
                times.update({f: v for f, v in zip(words[2::2], words[3::2]) if f in TIMES})
        if set(times) != set(TIMES) or not all(_TIME.fullmatch(v) for v in times.values()):
            return f"its times are {times}, not {', '.join(t.decode() for t in TIMES)} in RQ's format"
        rendered = self._render(job_id, request_id, kwargs, times)
        return "" if rendered == recorded else "a job's words differ beyond its id, times, data, description and meta"

    def _render(self, job_id: str, request_id: str, kwargs: dict, times: dict[bytes, bytes]) -> bytes:
        values = {b"id": job_id.encode(), **times,
                  b"data": zlib.compress(self._serializer.dumps((self.func, None, (), kwargs))),
                  b"description": get_call_string(self.func, (), kwargs, max_length=DESCRIPTION_LENGTH).encode(),
                  b"meta": self._serializer.dumps({"request_id": request_id, "kind": self.kind})}
        filled: list[int | bytes] = []
        for what, around in self.holes:
            value = values[what]
            filled += (len(value) + around, value)
        return self.template % tuple(filled)  # type: ignore[operator]

    def add(self, writes: Writes, job_id: str | None = None, **kwargs: Any) -> str:
        """Record the job's writes (with this request's id) in `writes`; returns the job id."""
        job_id = job_id or str(uuid4())
        if self.template is None:
            pipeline = self.redis.pipeline(transaction=False)
            enqueue(self.redis, self.settings, self.queue, self.func, self.kind, pipeline=pipeline, job_id=job_id,
                    timeout=self.timeout, **kwargs)
            for args, _options in pipeline.command_stack:
                writes.add_packed(pack(args))
            return job_id
        stamp = rq_time(now())
        writes.add_packed(Packed(self._render(job_id, logs.request_id.get(), kwargs,
                                              {b"created_at": stamp, b"enqueued_at": stamp}), self.words))
        return job_id


def rq_time(moment: datetime) -> bytes:
    """A UTC time as RQ writes a job's times (rq.utils.utcformat), at a third of strftime's cost."""
    return moment.isoformat(timespec="microseconds").encode()[:26] + b"Z"  # without the "+00:00"


_PREPARED: dict[tuple, Prepared] = {}


def prepared(redis: Redis, settings: Settings, queue: str, func: str, kind: str, timeout: int) -> Prepared:
    """The Prepared for these, made on first use in this process (one INFO to Redis, via RQ, the first time)."""
    key = (id(redis), id(settings), queue, func, kind, timeout)
    found = _PREPARED.get(key)
    # the entry holds its redis and settings, so their ids cannot be reused while it is here
    if found is not None and found.redis is redis and found.settings is settings:
        return found
    if len(_PREPARED) >= 256:  # tests build many runtimes; a process serving requests keeps a few entries
        _PREPARED.clear()
    made = _PREPARED[key] = Prepared(redis, settings, queue, func, kind, timeout)
    return made
