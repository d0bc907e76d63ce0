"""The build job: GitLab commit → Kaniko Job in the cluster → image tag → chat, and a test rollout.

Retries are safe: the build id is the service and commit, the image tag is
fixed on first run (in Redis), and every object is server-side applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from kubernetes.client.exceptions import ApiException

from bots.commands import Build, Deploy
from bots import build_messages as say
from bots.message import Message
from core import runtime
from deploy import applying
from deploy.build import gitlab, gitrefs, kaniko, templates
from deploy import clusters
from deploy.kube import Kube
from core.errors import PermanentError, TemporaryError
from jobs.notify import deliver
from jobs.queues import enqueue
from rules import routing
from state import images

LOG_LINES = 30
POLL_SECONDS = 1.0


def _tag(build_id: str, user: str) -> str:
    """YYYYMMDDHHMMSS-<user> as a valid tag, fixed on the first attempt so a retry pushes the same tag."""
    redis = runtime.get().redis
    candidate = gitrefs.image_tag(datetime.now(timezone.utc).strftime(gitrefs.STAMP), user)
    redis.set(f"dockyard:build-tag:{build_id}", candidate, nx=True, ex=7 * 86400)
    return redis.get(f"dockyard:build-tag:{build_id}").decode()


def _earlier(kube: Kube, name: str) -> tuple[str | None, str, str]:
    """(tag, state, commit) of an existing build Job of this name: succeeded, failed or running."""
    try:
        job = kube.dynamic.resources.get(api_version="batch/v1", kind="Job").get(
            name=name, namespace=kaniko.BUILDS_NAMESPACE)
    except ApiException as exc:
        if exc.status == 404:
            return None, "", ""
        raise
    args = job.spec.template.spec.containers[0].args or []
    destination = next((a.split("=", 1)[1] for a in args if a.startswith("--destination=")), "")
    status = job.status or {}
    state = "succeeded" if (status.get("succeeded") or 0) else "failed" if (status.get("failed") or 0) else "running"
    commit = (job.metadata.annotations or {}).get("dockyard.dev/commit", "")
    return destination.rsplit(":", 1)[-1] or None, state, commit


def _wait(kube: Kube, name: str, timeout: float) -> tuple[bool, str]:
    """(succeeded, reason) once the Job finishes; the reason names what failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = kube.dynamic.resources.get(api_version="batch/v1", kind="Job").get(
            name=name, namespace=kaniko.BUILDS_NAMESPACE)
        status = job.status or {}
        if (status.get("succeeded") or 0) >= 1:
            return True, ""
        failed = [c for c in status.get("conditions") or [] if c.get("type") == "Failed" and c.get("status") == "True"]
        if failed:
            return False, failed[0].get("message") or failed[0].get("reason") or "the Job failed"
        time.sleep(POLL_SECONDS)
    return False, f"no result after {timeout:.0f}s"


def _wait_gone(kube: Kube, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _earlier(kube, name)[1]:
        time.sleep(POLL_SECONDS / 2)


def _pod_report(kube: Kube, name: str) -> tuple[str, list[str]]:
    """The build pod's exit reason and its last log lines (kwok pods have none: say what the API said)."""
    pods = kube.core.list_namespaced_pod(kaniko.BUILDS_NAMESPACE, label_selector=f"job-name={name}").items
    if not pods:
        return "no build pod was created", []
    pod = pods[-1]
    reason = ""
    for status in pod.status.container_statuses or []:
        term = status.state.terminated if status.state else None
        if term:
            reason = f"exit code {term.exit_code} ({term.reason}): {term.message or ''}".strip().rstrip(":")
    try:
        text = kube.core.read_namespaced_pod_log(pod.metadata.name, kaniko.BUILDS_NAMESPACE, tail_lines=LOG_LINES,
                                                 _request_timeout=10)
        lines = text.splitlines()[-LOG_LINES:]
    except ApiException as exc:
        lines = [f"(no logs: the API answered {exc.status})"]
    return reason, lines


def run(service: str, project: str, sha: str, ref: str, user: str, reply_to: dict | None = None,
        trigger: str = "push") -> dict:
    """Build one service's image at one commit; tag it; report; maybe deploy it to test."""
    rt = runtime.get()
    if rt.settings.kubeconfig is None and not rt.rules.catalog.clusters:
        raise PermanentError("no cluster configured for builds: set KUBECONFIG")
    # the webhook checks ref and commit; a job from /build or anywhere else is checked here, so no
    # string can make Kaniko's git context point at another commit than the one reported
    if problem := gitrefs.project_problem(project):
        raise PermanentError(f"not building {service}: {problem}; correct git: in catalog.yaml")
    if problem := gitrefs.ref_problem(ref) or gitrefs.sha_problem(sha):
        raise PermanentError(f"not building {service}: {problem}; push or /build a branch or tag that git accepts")
    svc = rt.rules.catalog.services[service]
    try:  # the catalog's build_cluster (the only cluster when there is one)
        kube = clusters.kube_for(rt, rt.rules.catalog.builds_in)
    except clusters.ClusterUnreachable as exc:
        raise PermanentError(f"not building {service}: {exc}") from None
    build_id = f"{service}-{sha[:8]}"
    earlier_tag, earlier_state, earlier_commit = _earlier(kube, kaniko.job_name(build_id))
    # the Job is named by the short commit id: another commit's Job must never pass for this one's build
    if earlier_state == "running" and earlier_commit != sha:
        raise TemporaryError(f"build Job {kaniko.job_name(build_id)} is still building commit {earlier_commit[:12]}, "
                             f"whose short id {sha[:8]} is this commit's too; /build {service} {sha} again "
                             f"once it has finished")
    if earlier_state == "failed" or (earlier_state and earlier_commit != sha):  # build this commit from scratch
        applying.delete(kube, "batch/v1", "Job", kaniko.job_name(build_id), kaniko.BUILDS_NAMESPACE)
        _wait_gone(kube, kaniko.job_name(build_id))
        rt.redis.delete(f"dockyard:build-tag:{build_id}")
    elif earlier_tag:  # this commit is built, or being built: its image is the answer
        rt.redis.set(f"dockyard:build-tag:{build_id}", earlier_tag, ex=7 * 86400)
    tag = _tag(build_id, user)
    repository = rt.rules.image_repository(service)
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    target_url = f"{rt.settings.public_url}/builds/{build_id}"
    started = time.monotonic()
    gitlab.set_status(project, sha, "pending", f"preparing {repository}:{tag}", target_url)
    own = gitlab.has_file(project, svc.build.dockerfile if svc.build.context == "." else
                          f"{svc.build.context.rstrip('/')}/{svc.build.dockerfile}", sha)
    spec = kaniko.BuildSpec(build_id=build_id, service=service, project=project, ref=ref, sha=sha,
                            destination=f"{repository}:{tag}",
                            cache_repo=f"{rt.rules.catalog.registry}/{svc.git.split('/')[0]}/cache",
                            context=svc.build.context, dockerfile=svc.build.dockerfile, generated=not own)
    try:
        fresh = earlier_state not in ("succeeded", "running")  # a Job's template is immutable: never re-apply
        if fresh and not own:
            applying.apply(kube, kaniko.configmap(spec, templates.dockerfile(svc)))
        if fresh:
            applying.apply(kube, kaniko.job(spec, gitlab_url=rt.settings.gitlab_url or "",
                                            image=rt.settings.kaniko_image,
                                            registry_secret=rt.settings.registry_secret,
                                            git_secret=rt.settings.git_secret,
                                            deadline_seconds=rt.settings.build_timeout))
        gitlab.set_status(project, sha, "running", f"building {repository}:{tag}", target_url)
        ok, reason = _wait(kube, kaniko.job_name(build_id), rt.settings.build_timeout + 60)
    except ApiException as exc:
        raise TemporaryError(f"the cluster answered {exc.status} creating the build") from None
    seconds = time.monotonic() - started
    named = [(None, reply_to)] if reply_to else []
    named += [(name, t) for name, t in routing.named_targets_for(rt.rules, routing.service_labels(
        rt.rules, service, kind="build")) if t != reply_to]
    targets = [t for _, t in named]

    def tell(render: Callable[[str, tuple[tuple[str, str], ...]], Message]) -> None:
        """Each target reads the build in its own language."""
        for name, target in named:
            locale = routing.style_of(rt.rules, rt.settings, target, name).locale
            facts = say.facts(user, sha, ref, f"{repository}:{tag}", seconds, own, svc.language, locale)
            deliver(target, render(locale, facts), dedupe_key=f"build:{build_id}:{target}")

    if not ok:
        exit_reason, lines = _pod_report(kube, kaniko.job_name(build_id))
        gitlab.set_status(project, sha, "failed", f"build failed: {exit_reason or reason}"[:255], target_url)
        tell(lambda locale, facts: say.failed(service, sha, facts, exit_reason or reason, lines, locale))
        return {"build": build_id, "ok": False, "reason": exit_reason or reason}
    gitlab.create_tag(project, tag, sha, f"built by Dockyard from {branch}")
    gitlab.set_status(project, sha, "success", f"built {repository}:{tag}", target_url)
    images.record(rt.redis, service, tag, source=f"build {sha[:8]}")
    rollout_job = None
    if svc.auto_deploy in svc.environments:  # the service's first environment (the catalog checks), or none
        rollout = enqueue(rt.redis, rt.settings, "rollouts", "jobs.dispatch.run", "deploy",
                          job_id=f"autodeploy-{build_id}", timeout=3600,
                          command=Deploy(service=service, tag=tag, env=svc.auto_deploy).to_dict(),
                          who={"user": user}, reply_to=targets[0] if targets else {"sink": "console"},
                          text=f"/deploy {service} {tag} (auto, after build)")
        rollout_job = rollout.id
    tell(lambda locale, facts: say.built(service, tag, facts, rollout_job, svc.auto_deploy, locale))
    return {"build": build_id, "ok": True, "tag": tag}


def build_command(cmd: Build, who: str, reply_to: dict) -> None:
    """/build <svc> [<ref>]: what a push would do, without the push."""
    service = runtime.get().rules.catalog.services[cmd.service]
    ref, sha = gitlab.resolve(service.git, cmd.ref or service.branches[0].rstrip("*").rstrip("/") or "main")
    run(cmd.service, service.git, sha, ref, who, reply_to=reply_to, trigger="chat")
