"""POST /webhooks/gitlab: push and tag events become build jobs. Answers in milliseconds."""

from __future__ import annotations

import fnmatch
import hmac
import json
import logging
import re
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, request

from core import audit, durable, logs
from core.runtime import Runtime
from rules.models import Catalog
from deploy.build import gitrefs
from handlers.auth import refuse_unless
from handlers.counting import counted_request
from handlers.lane import raise_lane_failure
from jobs.prepared import prepared

bp = Blueprint("gitlab", __name__)
log = logging.getLogger("dockyard.gitlab")
DEDUPE_SECONDS = 24 * 3600
DELIVERY_KEY = "dockyard:gitlab-delivery:{delivery}"
MAX_USER = 255  # a GitLab username has at most 255 characters; a display name is cut there too
ZERO_SHA = "0" * 40
HANDLED = ("Push Hook", "Tag Push Hook")


@dataclass(frozen=True)
class Push:
    """What Dockyard needs from a push or tag push; ref and sha are checked (deploy.build.gitrefs)."""

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
    for key, value in (("project.path_with_namespace", path), ("ref", payload.get("ref"))):
        if not isinstance(value, str) or not value:
            raise ValueError(f"missing field {key}")
    after, checkout = payload.get("after"), payload.get("checkout_sha")
    # checkout_sha is null when a ref is deleted and absent before GitLab 8.5: `after` stands in
    problem = gitrefs.ref_problem(payload["ref"]) or gitrefs.sha_problem(after, "after") or (
        gitrefs.sha_problem(checkout, "checkout_sha") if checkout is not None else "")
    if problem:
        raise ValueError(problem)
    return Push(project=path, ref=payload["ref"], sha=checkout or after, user=pusher(payload),
                deleted=after == ZERO_SHA)


def pusher(payload: dict) -> str:
    """Who pushed: the username, else what this event version carries (Tag Push Hooks have no username)."""
    email = payload.get("user_email")
    local = email.split("@", 1)[0] if isinstance(email, str) and "@" in email else None
    user_id = payload.get("user_id")
    for candidate in (payload.get("user_username"), payload.get("user_name"), local,
                      str(user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None):
        if isinstance(candidate, str) and candidate.strip():
            # chat, the audit trail and Redis get this text: one line of valid UTF-8, no longer than GitLab allows
            text = re.sub(r"[\x00-\x1f\x7f]+", " ", candidate).strip().encode("utf-8", "replace").decode()
            return text[:MAX_USER]
    return "unknown"


_BY_PROJECT: dict[int, tuple[Catalog, dict[str, list[str]]]] = {}


def _by_project(catalog: Catalog) -> dict[str, list[str]]:
    """Each git project's services, indexed once per catalog: a push then costs one lookup, not a catalog scan."""
    found = _BY_PROJECT.get(id(catalog))
    if found is not None and found[0] is catalog:  # the entry holds the catalog, so its id is not reused
        return found[1]
    index: dict[str, list[str]] = {}
    for name, svc in catalog.services.items():
        index.setdefault(svc.git, []).append(name)
    if len(_BY_PROJECT) >= 64:  # tests load many catalogs; a serving process has one
        _BY_PROJECT.clear()
    _BY_PROJECT[id(catalog)] = (catalog, index)
    return index


def services_for(rt: Runtime, push: Push) -> tuple[list[str], str]:
    """Catalog services this push builds, or none and why not."""
    matching = _by_project(rt.rules.catalog).get(push.project, [])
    if not matching:
        return [], f"project {push.project} is not in the catalog"
    if push.is_tag:
        return list(matching), ""
    built = [n for n in matching if any(fnmatch.fnmatch(push.name, pattern)
                                        for pattern in rt.rules.catalog.services[n].branches)]
    if not built:
        return [], f"branch {push.name} is not built for {', '.join(matching)}"
    return built, ""


def queue_builds(rt: Runtime, push: Push, services: list[str], delivery: str | None,
                 event: str) -> list[dict] | None:
    """Mark the delivery seen, queue its builds, audit and count them: one round trip, all or nothing.

    None when the delivery was already accepted. All or nothing, so a delivery is marked seen exactly
    when its builds are queued: a failure in between can neither lose the push (GitLab's retry
    answered "duplicate") nor build it twice.
    """
    writes = durable.Writes()
    build = prepared(rt.redis, rt.settings, "builds", "jobs.build.run", "build", rt.settings.build_timeout + 300)
    jobs = [build.add(writes, f"build-{service}-{push.sha[:12]}", service=service, project=push.project,
                      sha=push.sha, ref=push.ref, user=push.user)
            for service in services]
    audit.record_in(writes, audit.Entry(push.user, "gitlab", f"{event} {push.ref} {push.sha[:8]}",
                                        ",".join(services), "accepted", logs.request_id.get()))
    counted_request(writes, "/webhooks/gitlab", 202)
    if not durable.commit(rt.redis, writes, DELIVERY_KEY.format(delivery=delivery) if delivery else None,
                          DEDUPE_SECONDS, replicas=rt.settings.redis_wait_replicas):
        return None
    return [{"service": service, "job": job} for service, job in zip(services, jobs)]


def accept(rt: Runtime, environ: dict, body: bytes) -> dict | None:
    """The fast lane's path (handlers.lane): the 202 answer for a new push it queued, else None and nothing
    written (the view below then answers: refusals, bad or ignored payloads, duplicates)."""
    expected = rt.settings.gitlab_webhook_token
    if expected is None or not hmac.compare_digest(environ.get("HTTP_X_GITLAB_TOKEN", "").encode(),
                                                   expected.get_secret_value().encode()):
        return None
    event = environ.get("HTTP_X_GITLAB_EVENT", "")
    if event not in HANDLED:
        return None
    try:
        push = parse(json.loads(body))
    except ValueError:
        return None
    services, _why = services_for(rt, push) if not push.deleted else ([], "")
    if not services:
        return None
    delivery = environ.get("HTTP_IDEMPOTENCY_KEY") or environ.get("HTTP_X_GITLAB_EVENT_UUID")
    jobs = queue_builds(rt, push, services, delivery, event)  # its one round trip is the last thing that happens
    return None if jobs is None else {"queued": jobs}


@bp.post("/webhooks/gitlab")
def webhook():
    """Push Hook and Tag Push Hook: authenticate, validate, then dedupe and enqueue in one transaction."""
    raise_lane_failure(request.environ)
    rt: Runtime = current_app.extensions["dockyard"]
    headers = request.headers  # once: each use of `request` goes through a context-local proxy
    refusal = refuse_unless(rt.settings.gitlab_webhook_token, headers.get("X-Gitlab-Token", ""), "GitLab",
                            "GITLAB_WEBHOOK_TOKEN", "X-Gitlab-Token")
    if refusal:
        return refusal
    event = headers.get("X-Gitlab-Event", "")
    if event not in HANDLED:
        return jsonify(ignored=f"event {event or '(none)'} is not handled; Dockyard builds on Push Hook and "
                               f"Tag Push Hook"), 200
    try:
        push = parse(json.loads(request.get_data() or b"null"))
    except ValueError as exc:
        return jsonify(error=f"malformed {event} payload: {exc}"), 400
    if push.deleted:
        return jsonify(ignored=f"{'tag' if push.is_tag else 'branch'} {push.name} was deleted"), 200
    services, why = services_for(rt, push)
    if not services:
        return jsonify(ignored=why), 200
    delivery = headers.get("Idempotency-Key") or headers.get("X-Gitlab-Event-UUID")
    jobs = queue_builds(rt, push, services, delivery, event)
    if jobs is None:
        return jsonify(duplicate=f"delivery {delivery} was already accepted"), 200
    # the hot answer built directly: Flask's jsonify (sorted keys, app lookups) cost more than the rest of it
    return Response(json.dumps({"queued": jobs}), 202, mimetype="application/json")
