"""POST /webhooks/gitlab: push and tag events become build jobs. Answers in milliseconds."""

from __future__ import annotations

import fnmatch
import json
import logging
from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, request

from core import audit, logs
from core.runtime import Runtime
from handlers.auth import refuse_unless
from jobs.queues import enqueue

bp = Blueprint("gitlab", __name__)
log = logging.getLogger("dockyard.gitlab")
DEDUPE_SECONDS = 24 * 3600
ZERO_SHA = "0" * 40
HANDLED = ("Push Hook", "Tag Push Hook")


@dataclass(frozen=True)
class Push:
    """What Dockyard needs from a push or tag push."""

    project: str
    ref: str
    sha: str
    user: str
    deleted: bool

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")

    @property
    def name(self) -> str:
        return self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")


def parse(payload: object) -> Push:
    """A GitLab push payload to a Push; ValueError names the first missing or wrong field."""
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    project = payload.get("project")
    path = project.get("path_with_namespace") if isinstance(project, dict) else None
    for key, value in (("project.path_with_namespace", path), ("ref", payload.get("ref")),
                       ("after", payload.get("after")), ("user_username", payload.get("user_username"))):
        if not isinstance(value, str) or not value:
            raise ValueError(f"missing field {key}")
    if not payload["ref"].startswith(("refs/heads/", "refs/tags/")):
        raise ValueError(f"ref {payload['ref']!r} is neither refs/heads/... nor refs/tags/...")
    sha = payload.get("checkout_sha") or payload["after"]
    return Push(project=path, ref=payload["ref"], sha=sha, user=payload["user_username"],
                deleted=payload["after"] == ZERO_SHA)


def services_for(rt: Runtime, push: Push) -> tuple[list[str], str]:
    """Catalog services this push builds, or none and why not."""
    matching = [name for name, svc in rt.rules.catalog.services.items() if svc.git == push.project]
    if not matching:
        return [], f"project {push.project} is not in the catalog"
    if push.is_tag:
        return matching, ""
    built = [n for n in matching if any(fnmatch.fnmatch(push.name, pattern)
                                        for pattern in rt.rules.catalog.services[n].branches)]
    if not built:
        return [], f"branch {push.name} is not built for {', '.join(matching)}"
    return built, ""


@bp.post("/webhooks/gitlab")
def webhook():
    """Push Hook and Tag Push Hook: authenticate, validate, dedupe, enqueue one build per image."""
    rt: Runtime = current_app.extensions["dockyard"]
    refusal = refuse_unless(rt.settings.gitlab_webhook_token, request.headers.get("X-Gitlab-Token", ""), "GitLab",
                            "GITLAB_WEBHOOK_TOKEN", "X-Gitlab-Token")
    if refusal:
        return refusal
    event = request.headers.get("X-Gitlab-Event", "")
    if event not in HANDLED:
        return jsonify(ignored=f"event {event or '(none)'} is not handled; Dockyard builds on Push Hook and "
                               f"Tag Push Hook"), 200
    try:
        push = parse(json.loads(request.get_data() or b"null"))
    except ValueError as exc:
        return jsonify(error=f"malformed {event} payload: {exc}"), 400
    if push.deleted:
        return jsonify(ignored=f"{'tag' if push.is_tag else 'branch'} {push.name} was deleted"), 200
    delivery = request.headers.get("Idempotency-Key") or request.headers.get("X-Gitlab-Event-UUID")
    if delivery and not rt.redis.set(f"dockyard:gitlab-delivery:{delivery}", "1", nx=True, ex=DEDUPE_SECONDS):
        return jsonify(duplicate=f"delivery {delivery} was already accepted"), 200
    services, why = services_for(rt, push)
    if not services:
        return jsonify(ignored=why), 200
    jobs = []
    for service in services:
        job = enqueue(rt.redis, rt.settings, "builds", "jobs.build.run", "build",
                      job_id=f"build-{service}-{push.sha[:12]}", timeout=rt.settings.build_timeout + 300,
                      service=service, project=push.project, sha=push.sha, ref=push.ref, user=push.user)
        jobs.append({"service": service, "job": job.id})
    audit.record(rt.redis, audit.Entry(push.user, "gitlab", f"{event} {push.ref} {push.sha[:8]}",
                                       ",".join(services), "accepted", logs.request_id.get()))
    return jsonify(queued=jobs), 202
