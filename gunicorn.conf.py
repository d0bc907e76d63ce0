"""gunicorn settings for the Procfile's `web`: threads, so slow clients cannot stop the web process.

gunicorn's default sync worker serves one connection at a time: a client that
sends its headers and never its body holds a whole worker until the 30 s
timeout kills it, so two such clients stop a two-worker web process. The
gthread worker keeps idle and kept-alive connections in a poller, gives a
request a thread only once it has sent something, and runs up to `threads` of
them at once. The app reads every body under a deadline (handlers/limits.py),
so a stalled body holds one of those threads for at most BODY_SECONDS. No extra
dependency, and the app's blocking clients (Redis, Kubernetes, Slack) work
unchanged, which is why this rather than gevent's monkey-patching.

Settings here are the defaults; GUNICORN_CMD_ARGS and command-line flags override them.
"""

from __future__ import annotations

import os


def _whole(name: str, default: int) -> int:
    """A positive whole number from the environment; a bad one stops start-up naming the variable."""
    value = os.environ.get(name, "").strip() or str(default)
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name}={value!r} must be a whole number of at least 1")
    return int(value)


bind = [f"0.0.0.0:{_whole('PORT', 8080)}"]
workers = _whole("WEB_CONCURRENCY", 2)
worker_class = "gthread"
# Requests spend their time waiting on Redis, not the CPU, so many threads per process are cheap; each slow
# client holds one for at most BODY_SECONDS.
threads = _whole("WEB_THREADS", 32)
timeout = 30  # gthread: how long the worker's main loop may be silent before the arbiter restarts it
accesslog = "-"
# Access lines without basic-auth user names, link tokens or credentials; gunicorn's own errors redacted too.
logger_class = "core.accesslog.RedactingLogger"
# gunicorn's control socket (gunicornc) is one fixed path per user: several web processes on a host would
# fight over it, and Dockyard is managed through signals and its Procfile, so there is none.
control_socket_disable = True
