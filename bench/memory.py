"""Resident memory (RSS from /proc, children included: gunicorn's workers, a worker's work horse) of each
Procfile process: once started and idle, and now, after the sections that ran before this one."""

from __future__ import annotations

from bench.procs import rss_mib
from bench.report import Figure
from bench.stack import PROCFILE, Stack

SECTION = "memory"


def run(stack: Stack) -> list[Figure]:
    fresh = [name for name in ("web", *PROCFILE) if name not in stack.procs]
    stack.start("web", *PROCFILE)  # a process no section needed starts now: its "after" is its rest
    figures = []
    for name in ("web", *PROCFILE):
        proc = stack.procs[name]
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} during the bench; see {stack.logs}/{name}.log")
        figures.append(Figure(SECTION, f"{name} RSS after the bench", rss_mib(proc.pid), "MiB",
                              baseline="at rest", baseline_value=stack.rest_mib[name],
                              note="started for this section: no load yet" if name in fresh else
                              ("gunicorn master + 2 workers" if name == "web" else "")))
    return figures
