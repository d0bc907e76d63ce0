"""`./dockyard`: the console chat channel, audit trail, worker and local cluster.

The entry point sits above everything it starts. Subcommands import the parts
that load the Kubernetes client or every job module themselves (the lines
marked "heavy"), so `./dockyard chat` and `audit` start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
import uuid

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bots.console.sink import wait_replies
from bots.pipeline import ChatRequest, submit
from bots.plaintext import to_text
from core import audit, durations, logs, runtime
from core.config import ConfigError
from jobs.queues import NO_FORK_QUEUES, QUEUES
from rules import RulesError

def _seconds(text: str) -> int:
    seconds = durations.to_seconds(text)
    if seconds is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 1h or 7d")
    return seconds


def cmd_chat(args: argparse.Namespace) -> int:
    """Send one command through the pipeline as a console user; print every reply until its job ends."""

    rt = runtime.get()
    conversation = uuid.uuid4().hex
    outcome = submit(rt, ChatRequest("console", args.as_user, args.text,
                                     {"sink": "console", "conversation": conversation}))
    if not outcome.accepted:
        print(to_text(outcome.message))
        return 1
    job = Job.fetch(outcome.job_id, connection=rt.redis)
    deadline = time.monotonic() + args.timeout
    severities: list[str] = []
    ended = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
    while time.monotonic() < deadline:
        finished = job.get_status(refresh=True) in ended
        for reply in wait_replies(rt.redis, conversation, 0.5):
            print(("(updated) " if reply["updated"] else "") + reply["text"], flush=True)
            severities.append(reply["message"]["severity"])
        if finished:
            return 1 if "error" in severities else 0
    print(f"no end within {args.timeout:.0f}s: job {outcome.job_id} is {job.get_status(refresh=True)}; "
          f"is a worker running? (make run starts one)", file=sys.stderr)
    return 2


def cmd_audit(args: argparse.Namespace) -> int:
    """Print the audit trail."""
    for entry in audit.since(runtime.get().redis, args.since, args.limit):
        print(audit.format_entry(entry))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run an RQ worker on the named queues, with the scheduler that runs retries."""
    from jobs.worker import DockyardSimpleWorker, DockyardWorker, work_through_outages  # heavy: every job module

    rt = runtime.get()
    logs.setup(rt.settings.log_level, "worker")
    queues = args.queues.split(",") if args.queues else list(QUEUES)
    unknown = set(queues) - set(QUEUES)
    if unknown:
        print(f"unknown queue(s) {', '.join(sorted(unknown))}; known: {', '.join(QUEUES)}", file=sys.stderr)
        return 2
    if args.no_fork and not set(queues) <= NO_FORK_QUEUES:
        print(f"--no-fork runs jobs in the worker's own process, which is safe only for the short jobs of "
              f"{', '.join(sorted(NO_FORK_QUEUES))}; run {', '.join(sorted(set(queues) - NO_FORK_QUEUES))} "
              f"in a forking worker", file=sys.stderr)
        return 2
    kind = DockyardSimpleWorker if args.no_fork else DockyardWorker
    return work_through_outages(lambda: kind(queues, connection=rt.redis), rt.redis, burst=args.burst)


def cmd_watcher(args: argparse.Namespace) -> int:
    """Watch the cluster for sick services (only the leader of several replicas acts)."""
    from watcher.loop import Fleet  # heavy: the Kubernetes client

    rt = runtime.get()
    logs.setup(rt.settings.log_level, "watcher")
    if rt.settings.kubeconfig is None and not rt.rules.catalog.clusters:
        print("dockyard watcher: KUBECONFIG is not set and the catalog names no clusters; there is no cluster "
              "to watch", file=sys.stderr)
        return 2
    watcher = Fleet(rt, quiet_seconds=args.quiet).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    watcher.close()
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Fire timed changes when due (only the leader of several replicas fires)."""
    from scheduler.loop import Scheduler  # heavy: APScheduler

    rt = runtime.get()
    logs.setup(rt.settings.log_level, "scheduler")
    scheduler = Scheduler(rt)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.stop.set())
    try:
        scheduler.run()
    except KeyboardInterrupt:
        scheduler.stop.set()
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    """Validate the rules directory."""
    rt = runtime.get()
    print(f"{rt.settings.rules_dir}: {len(rt.rules.catalog.services)} services, "
          f"{len(rt.rules.catalog.teams)} teams, {len(rt.rules.policy.users)} users: ok")
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    """Put a failed job back on its queue."""
    redis = runtime.get().redis
    try:
        job = Job.fetch(args.job_id, connection=redis)
    except NoSuchJobError:
        print(f"no job {args.job_id}", file=sys.stderr)
        return 1
    job.requeue()
    print(f"requeued {job.id} on {job.origin}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Seed the local run: v1 of each service in test, v2 recorded as newest."""
    import demo  # heavy: the Kubernetes client

    for name in demo.seed():
        print(f"{name}: v1 deployed to test; v2 recorded as its newest image")
    return 0


def _cluster_name(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a cluster name: lower-case letters, digits and -")
    return value


def cmd_cluster(args: argparse.Namespace) -> int:
    """Start, stop or describe the local control plane."""
    from deploy.local import cluster_cli  # heavy: builds the binaries when missing

    return cluster_cli.main(args.action, args.name)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dockyard", description="ChatOps delivery for Kubernetes.")
    sub = p.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="send a chat command as a console user")
    chat.add_argument("--as", dest="as_user", required=True, help="a user name from rules/policy.yaml")
    chat.add_argument("--timeout", type=float, default=600.0, help="seconds to follow the job")
    chat.add_argument("text", help='the command, e.g. "/status web"')
    chat.set_defaults(func=cmd_chat)
    aud = sub.add_parser("audit", help="print the audit trail")
    aud.add_argument("--since", type=_seconds, default=3600, help="how far back, e.g. 1h (default) or 7d")
    aud.add_argument("--limit", type=int, default=1000)
    aud.set_defaults(func=cmd_audit)
    work = sub.add_parser("worker", help="run an RQ worker")
    work.add_argument("--queues", default="", help="comma-separated (default: all)")
    work.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    work.add_argument("--no-fork", action="store_true",
                      help="run jobs in this process, not a forked work horse each (the notify queue only)")
    work.set_defaults(func=cmd_worker)
    wat = sub.add_parser("watcher", help="watch pods, events and endpoints; report sick services")
    wat.add_argument("--quiet", type=float, default=300.0,
                     help="seconds without a new finding before a pod incident is resolved")
    wat.set_defaults(func=cmd_watcher)
    sch = sub.add_parser("scheduler", help="fire timed changes when due (one leader among replicas)")
    sch.set_defaults(func=cmd_scheduler)
    rules = sub.add_parser("rules", help="validate the rules directory (DOCKYARD_RULES_DIR)")
    rules.add_argument("action", choices=["check"])
    rules.set_defaults(func=cmd_rules)
    jobs = sub.add_parser("jobs", help="manage jobs")
    jobs.add_argument("action", choices=["requeue"])
    jobs.add_argument("job_id")
    jobs.set_defaults(func=cmd_requeue)
    dem = sub.add_parser("demo", help="seed the local cluster of make run with the example services")
    dem.add_argument("action", choices=["seed"])
    dem.set_defaults(func=cmd_demo)
    cl = sub.add_parser("cluster", help="the local Kubernetes control plane")
    cl.add_argument("action", choices=["up", "down", "status", "env"])
    cl.add_argument("--name", default=None, type=_cluster_name,
                    help="a second (third...) local cluster side by side, e.g. east; kept in .run/cluster-<name>")
    cl.set_defaults(func=cmd_cluster)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, RulesError) as exc:
        print(f"dockyard: {exc}", file=sys.stderr)
        return 2
    except RedisError as exc:
        url = runtime._current.settings.redis_url if runtime._current else "DOCKYARD_REDIS_URL"
        print(f"dockyard: cannot reach Redis at {url.split('@')[-1]} ({exc.__class__.__name__}); "
              f"start the platform with `make run`, or set DOCKYARD_REDIS_URL", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
