"""What Dockyard's webhook ingest is measured against, each served by gunicorn like Dockyard's app.

- obvious(): the handler anyone would write first: token check in constant time, `SET NX` of the
  delivery id (GitLab's X-Gitlab-Event-UUID, Alertmanager's groupKey), one RQ enqueue;
- bare_flask(): Flask doing one LPUSH of the body, and nothing else;
- bare_wsgi(): a WSGI callable doing one LPUSH: the ceiling of this stack on this machine.

Configured like Dockyard (DOCKYARD_REDIS_URL, GITLAB_WEBHOOK_TOKEN, ALERTMANAGER_WEBHOOK_TOKEN).
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, jsonify, request
from redis import Redis
from rq import Queue

BARE_LIST = "bench:bare"
OBVIOUS_QUEUE = "bench-obvious"


def noop(**kwargs: object) -> None:
    """The job the obvious handler enqueues (no worker runs it during the bench)."""


def obvious() -> Flask:
    app = Flask(__name__)
    redis = Redis.from_url(os.environ["DOCKYARD_REDIS_URL"])
    queue = Queue(OBVIOUS_QUEUE, connection=redis)
    gitlab_token = os.environ["GITLAB_WEBHOOK_TOKEN"].encode()
    alertmanager_token = os.environ["ALERTMANAGER_WEBHOOK_TOKEN"].encode()

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/webhooks/gitlab")
    def gitlab():
        if not hmac.compare_digest(request.headers.get("X-Gitlab-Token", "").encode(), gitlab_token):
            return jsonify(error="X-Gitlab-Token does not match"), 401
        push = request.get_json()
        delivery = request.headers.get("X-Gitlab-Event-UUID", "")
        if not redis.set(f"bench:obvious:gitlab:{delivery}", 1, nx=True, ex=86400):
            return jsonify(duplicate=delivery), 200
        job = queue.enqueue("bench.baselines.noop", project=push["project"]["path_with_namespace"],
                            ref=push["ref"], sha=push["checkout_sha"], user=push.get("user_username", ""))
        return jsonify(queued=job.id), 202

    @app.post("/webhooks/alertmanager")
    def alertmanager():
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(given, alertmanager_token):
            return jsonify(error="bearer token does not match"), 401
        group = request.get_json()
        if not redis.set(f"bench:obvious:alertmanager:{group['groupKey']}", 1, nx=True, ex=86400):
            return jsonify(duplicate=group["groupKey"]), 200
        job = queue.enqueue("bench.baselines.noop", group=group)
        return jsonify(queued=job.id), 202

    return app


def bare_flask() -> Flask:
    app = Flask(__name__)
    redis = Redis.from_url(os.environ["DOCKYARD_REDIS_URL"])

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/<path:anything>")
    def push(anything: str):
        redis.lpush(BARE_LIST, request.get_data())
        return "", 202

    return app


def bare_wsgi():  # type: ignore[no-untyped-def]
    redis = Redis.from_url(os.environ["DOCKYARD_REDIS_URL"])

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["REQUEST_METHOD"] == "POST":
            redis.lpush(BARE_LIST, environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            start_response("202 Accepted", [("Content-Length", "0")])
        else:
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        return [b""]

    return app
