"""The job behind every accepted chat command: run it, answer where it was asked."""

from __future__ import annotations

import logging

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from bots import replies
from bots.commands import Command, Help, Status
from bots.message import Message
from core import runtime
from deploy import fetching, kube
from jobs.errors import PermanentError, TemporaryError
from jobs.notify import deliver

log = logging.getLogger("dockyard.jobs.commands")


def _status(cmd: Status) -> Message:
    rt = runtime.get()
    service = rt.rules.service(cmd.service)
    if service is None:
        raise PermanentError(f"service {cmd.service!r} is not in the catalog")
    envs = [cmd.env] if cmd.env else list(service.environments)
    live: dict[str, dict | None] = {}
    if rt.settings.kubeconfig:
        apps = kube.apps(rt.settings.kubeconfig)
        for env in envs:
            try:
                live[env] = fetching.deployment_summary(apps, service.environments[env].namespace, cmd.service)
            except (ApiException, HTTPError) as exc:
                status = getattr(exc, "status", None)
                if status in (401, 403):
                    raise PermanentError(f"the cluster refused Dockyard ({status}): check its RBAC "
                                         f"for namespace {service.environments[env].namespace}") from None
                raise TemporaryError(f"the cluster did not answer: {exc}") from None
    return replies.status_message(cmd.service, service, live, envs)


ANSWERS = {Help: lambda cmd: replies.help_message(cmd.topic), Status: _status}


def runs(command: Command) -> bool:
    """Does this Dockyard have a job for the command? (The pipeline says so before enqueueing.)"""
    return type(command) in ANSWERS


def answer(command: Command) -> Message:
    """The reply to a command (raises PermanentError/TemporaryError when it can't be had)."""
    handler = ANSWERS.get(type(command))
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
    message = answer(cmd)
    return deliver(reply_to, message, dedupe_key=f"reply:{job.id}" if job else None) or ""
