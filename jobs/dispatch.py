"""The job behind every accepted chat command: run it, answer where it was asked."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from bots import commands as c
from bots import replies
from bots.commands import Command
from bots.message import Message
from core import runtime
from deploy import api_errors, fetching, render
from deploy.kube import Kube, connect
from deploy.render import Target
from jobs import approvals, rollout, silences
from core.errors import PermanentError
from jobs.notify import deliver

log = logging.getLogger("dockyard.jobs.commands")
LOG_LINES_PER_POD = 50


def _kube() -> Kube | None:
    rt = runtime.get()
    return connect(rt.settings.kubeconfig) if rt.settings.kubeconfig else None


def _read(what: Callable[[], object], namespace: str):
    """Run a read against the cluster, turning its errors into retry decisions."""
    with api_errors.translated(namespace):
        return what()


def _status(cmd: c.Status) -> Message:
    rt = runtime.get()
    service = rt.rules.service(cmd.service)
    if service is None:
        raise PermanentError(f"service {cmd.service!r} is not in the catalog")
    envs = [cmd.env] if cmd.env else list(service.environments)
    kube = _kube()
    live: dict[str, dict | None] = {}
    if kube is not None:
        for env in envs:
            ns = service.environments[env].namespace
            stable = _read(lambda: fetching.deployment_summary(kube.apps, ns, cmd.service), ns)
            if stable is None:
                live[env] = None
                continue
            tracks = {t: _read(lambda t=t: fetching.deployment_summary(kube.apps, ns, render.workload_name(
                cmd.service, t)), ns) for t in ("canary", "preview")}
            names = {p.metadata.name for p in _read(lambda: fetching.pods(kube, ns, {"app": cmd.service}), ns)}
            warnings = _read(lambda: fetching.warnings(kube, ns, names, limit=3), ns)
            live[env] = {**stable, "canary": tracks["canary"], "preview": tracks["preview"],
                         "router": service.router,
                         "warnings": [f"{w.reason}: {w.involved_object.name}: {w.message}" for w in warnings]}
    return replies.status_message(cmd.service, service, live, envs)


def _history(cmd: c.History) -> Message:
    kube = _kube()
    if kube is None:
        raise PermanentError("no cluster configured: set KUBECONFIG (make run starts a local cluster)")
    target = Target.of(runtime.get().rules, cmd.service, cmd.env)
    revisions = _read(lambda: fetching.history(kube, target.namespace, cmd.service), target.namespace)
    return replies.history_message(cmd.service, cmd.env, revisions)


def _logs(cmd: c.Logs) -> Message:
    kube = _kube()
    if kube is None:
        raise PermanentError("no cluster configured: set KUBECONFIG (make run starts a local cluster)")
    target = Target.of(runtime.get().rules, cmd.service, cmd.env)
    pods = _read(lambda: fetching.pods(kube, target.namespace, {"app": cmd.service}), target.namespace)
    per_pod: list[tuple[str, list[str]]] = []
    for pod in pods:
        try:
            text = kube.core.read_namespaced_pod_log(pod.metadata.name, target.namespace, container=cmd.service,
                                                     tail_lines=cmd.tail, _request_timeout=10)
            per_pod.append((pod.metadata.name, text.splitlines()[-LOG_LINES_PER_POD:] or ["(no output)"]))
        except ApiException as exc:
            per_pod.append((pod.metadata.name, [f"(no logs: {api_errors.message(exc)})"]))
        except (HTTPError, OSError) as exc:
            per_pod.append((pod.metadata.name, [f"(no logs: {exc.__class__.__name__})"]))
    return replies.logs_message(cmd.service, cmd.env, cmd.tail, per_pod)


def _events(cmd: c.Events) -> Message:
    from jobs import health

    kept = health.recent_events(cmd.service, cmd.since_seconds, limit=200)
    return replies.events_message(cmd.service, cmd.since_seconds, kept)


READERS: dict[type, Callable[[Command], Message]] = {
    c.Help: lambda cmd: replies.help_message(cmd.topic),  # type: ignore[attr-defined]
    c.Status: _status, c.History: _history, c.Logs: _logs, c.Events: _events,
}

def _build(cmd: c.Build, who: str, reply_to: dict) -> None:
    """/build <svc> [<ref>]: what a push would do, without the push."""
    from jobs import build, gitlab

    service = runtime.get().rules.catalog.services[cmd.service]
    ref, sha = gitlab.resolve(service.git, cmd.ref or service.branches[0].rstrip("*").rstrip("/") or "main")
    build.run(cmd.service, service.git, sha, ref, who, reply_to=reply_to, trigger="chat")


ACTIONS: dict[type, Callable[[Command, str, dict], None]] = {
    c.Deploy: lambda cmd, who, to: rollout.deploy(cmd.service, cmd.env, cmd.tag, cmd.strategy, cmd.weight, who, to),
    c.Build: _build,  # type: ignore[dict-item]
    c.Approve: lambda cmd, who, to: approvals.approve(cmd.approval_id, who, to),
    c.Reject: lambda cmd, who, to: approvals.reject(cmd.approval_id, who, cmd.reason or "", to),
    c.DeployControl: lambda cmd, who, to: rollout.control(cmd.service, cmd.env, cmd.step, who, to),
    c.Rollback: lambda cmd, who, to: rollout.rollback(cmd.service, cmd.env, cmd.revision, who, to),
    c.Scale: lambda cmd, who, to: rollout.scale(cmd.service, cmd.env, cmd.replicas, who, to),
    c.Autoscale: lambda cmd, who, to: rollout.autoscale(cmd.service, cmd.env, cmd.min_replicas, cmd.max_replicas,
                                                        cmd.cpu_percent, who, to),
    c.Restart: lambda cmd, who, to: rollout.restart(cmd.service, cmd.env, who, to),
    c.Silence: lambda cmd, who, to: silences.create(cmd.matcher, cmd.duration_seconds, cmd.comment, who, to),
    c.SilenceList: lambda cmd, who, to: silences.listing(to),
    c.SilenceExpire: lambda cmd, who, to: silences.expire(cmd.silence_id, who, to),
}


def runs(command: Command) -> bool:
    """Does this Dockyard have a job for the command? (The pipeline says so before enqueueing.)"""
    return type(command) in READERS or type(command) in ACTIONS


ROLLOUTS = (c.Deploy, c.DeployControl, c.Rollback, c.Scale, c.Autoscale, c.Restart)


def queue_of(command: Command) -> str:
    if isinstance(command, c.Build):
        return "builds"
    return "rollouts" if isinstance(command, ROLLOUTS) else "commands"


def needs_approval(command: Command) -> bool:
    """Every change to an environment marked `approval: required` waits for a second person.

    Aborting a canary is the exception: it returns traffic to the stable version, which was approved.
    """
    if not isinstance(command, ROLLOUTS) or (isinstance(command, c.DeployControl) and command.step == "abort"):
        return False
    service = runtime.get().rules.catalog.services[command.service]  # type: ignore[attr-defined]
    return service.environments[command.env].approval == "required"  # type: ignore[attr-defined]


def run_approved(command: dict, who: dict, reply_to: dict) -> str:
    """RQ entry point for a change whose approval was just given (never asks again)."""
    cmd = Command.from_dict(command)
    ACTIONS[type(cmd)](cmd, f"{who['user']} (approved by {who['approved_by']})", reply_to)
    return "done"


def answer(command: Command) -> Message:
    """The reply to a read-only command (raises PermanentError/TemporaryError when it can't be had)."""
    handler = READERS.get(type(command))
    if handler is None:
        raise PermanentError(f"/{command.verb} has no job in this Dockyard yet")
    return handler(command)


def run(command: dict, who: dict, reply_to: dict, text: str = "") -> str:
    """RQ entry point: run one parsed command and deliver the answer."""
    from rq import get_current_job

    job = get_current_job()
    cmd = Command.from_dict(command)
    if job is not None and text:
        job.meta["command_text"] = text
        job.save_meta()
    if needs_approval(cmd):
        approvals.request(cmd.to_dict(), who.get("user", "?"), reply_to)
        return "approval requested"
    if type(cmd) in ACTIONS:
        ACTIONS[type(cmd)](cmd, who.get("user", "?"), reply_to)
        return "done"
    message = answer(cmd)
    return deliver(reply_to, message, dedupe_key=f"reply:{job.id}" if job else None) or ""

