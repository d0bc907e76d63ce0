"""`python -m bench [section ...]` measures the whole path, each figure beside a baseline from the same run.

Sections (all but scale by default, always run in this order):
  ingest        /webhooks/gitlab and /webhooks/alertmanager under wrk vs the obvious handler and bare ceilings
  chat          parse and submit() vs shlex.split, a Redis PING and a bare RQ enqueue
  classify      watch events classified per second vs json.loads of the same objects
  alert-group   a 1,000-alert group → its one message rendered and queued
  workers       jobs a second per queue (alert-group jobs in the notifier; the fork floor of the others)
  chat-patched  a /scale in chat → the Deployment patched in the apiserver (local control plane)
  oom           a pod's status patched to OOMKilled → the incident message in the console sink
  dingtalk      a burst of 500 alert groups → all delivered to one robot allowing 20 messages a minute
  scale         (not by default: minutes) 1,000 services and 10,000 pods: watcher start-up and memory,
                web start-up, /status in chat
  memory        resident memory of each Procfile process at rest and after the other sections

`--quick` makes every section small (a smoke run of a minute or two, not a measurement);
`--compare A.json B.json` prints two runs side by side. Each run writes .run/bench/<UTC time>.json
and .run/bench/latest.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import report
from bench.report import Figure

ORDER = ("ingest", "chat", "classify", "alert-group", "workers", "chat-patched", "oom", "dingtalk", "scale", "memory")
DEFAULT = tuple(s for s in ORDER if s != "scale")
NEEDS_CLUSTER = frozenset({"chat-patched", "oom", "scale", "memory"})
NEEDS_STACK = frozenset(ORDER) - {"classify"}


MODULES = {"alert-group": "alertgroup", "chat-patched": "chat_patched"}  # the rest: bench.<section>


def sizes(quick: bool) -> dict[str, dict]:
    """Each section's sizes (small ones under --quick)."""
    return {
        "ingest": {"seconds": 3 if quick else 10},
        "chat": {"n": 300 if quick else 3000},
        "classify": {"n": 3000 if quick else 30_000},
        "alert-group": {"alerts": 1000, "repeats": 3 if quick else 20},
        "workers": {"n": 200 if quick else 2000, "forked": 30 if quick else 200},
        "chat-patched": {"runs": 5 if quick else 30},
        "oom": {"runs": 5 if quick else 30},
        "dingtalk": {"events": 60 if quick else 500},
        "scale": {"services": 100, "pods": 1000, "status_runs": 5} if quick else {},
        "memory": {},
    }


def section(name: str) -> Callable[..., list[Figure]]:
    """The section's run(stack, **sizes), imported only when chosen."""
    return importlib.import_module(f"bench.{MODULES.get(name, name)}").run


def run(chosen: list[str], quick: bool = False, keep: bool = False, out: Path = report.OUT) -> dict:
    started = time.time()
    figures: list[Figure] = []
    notes: list[str] = []
    stack = None
    size = sizes(quick)
    try:
        if set(chosen) & NEEDS_STACK:
            from bench.stack import Stack

            stack = Stack(keep=keep)
            if set(chosen) & NEEDS_CLUSTER:
                print("starting the local control plane …", file=sys.stderr)
                stack.up_cluster()
                notes.append(f"local control plane up in {stack.cluster_seconds:.1f} s")
        for name in chosen:
            print(f"[bench] {name} …", file=sys.stderr)
            section_started = time.monotonic()
            try:
                got = section(name)(stack, **size[name])
            except Exception as exc:  # one broken section must not cost the others' figures
                notes.append(f"{name} failed: {exc}" + ("" if keep else " (rerun with --keep to keep the logs)"))
                print(f"[bench] {name} failed: {exc}", file=sys.stderr)
                continue
            figures += got
            print(report.table(got), file=sys.stderr)
            notes.append(f"{name} took {time.monotonic() - section_started:.0f} s")
    finally:
        if stack is not None:
            stack.close()
    doc = report.document(figures, chosen, notes, started)
    path = report.write(doc, out)
    print(report.table(figures))
    for note in notes:
        print(f"  · {note}")
    m = doc["machine"]
    print(f"{m['nproc']} cores, {m['cpu']}, {m['memory_gib']} GiB; commit {doc['commit'][:10]}"
          f"{' (with uncommitted changes)' if doc['dirty'] else ''}; {doc['seconds']} s; written to {path}")
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("sections", nargs="*", metavar="section", help=f"one of: {', '.join(ORDER)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: check the bench runs, not the speed")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs of every process)")
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="two runs side by side")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        print(report.compare(a, b))
        return 0
    unknown = [s for s in args.sections if s not in ORDER]
    if unknown:
        parser.error(f"no section {', '.join(unknown)}; the sections are {', '.join(ORDER)}")
    chosen = [s for s in ORDER if s in args.sections] if args.sections else list(DEFAULT)
    doc = run(chosen, quick=args.quick, keep=args.keep)
    return 1 if any(n for n in doc["notes"] if " failed: " in n) else 0


if __name__ == "__main__":
    # A bench stopped from outside (a timeout, `kill`) still stops what it started: the control plane,
    # Redis and the Procfile processes would otherwise outlive it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
