"""Per-request cost of webhook ingest in one process, without HTTP: each WSGI app called directly.

wrk figures move by ±30% when anything else runs on the machine; the CPU time one request costs in
the app (Flask, the handler, redis-py, one Redis round trip) is steadier, so this is what to measure
while changing the hot path, and wrk (`python -m bench ingest`) confirms it.

    .venv/bin/python -m bench.ingest_profile [-n 3000] [--profile gitlab|alertmanager] [--only NAME]

Prints, for Dockyard's two webhooks, the obvious handler and the bare Flask/WSGI `LPUSH`, the CPU
microseconds (this process) and wall microseconds (with Redis's answer) per request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench import wrk
from bench.stack import ALERTMANAGER_TOKEN, GITLAB_TOKEN, write_rules

WSGI = Callable[[dict, Callable], object]


def _environ(path: str, body: bytes, headers: dict[str, str]) -> dict:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
               "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
               "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
               "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1"}
    for name, value in headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ[key] = value
    return environ


def requests_for(kind: str, n: int) -> list[dict]:
    """n distinct deliveries of `kind`, as WSGI environs (made before timing)."""
    body = wrk.gitlab_body() if kind == "gitlab" else wrk.alertmanager_body()
    headers = ({"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": GITLAB_TOKEN, "X-Gitlab-Event-UUID": "__UNIQUE__"}
               if kind == "gitlab" else {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"})
    out = []
    for _ in range(n):
        unique = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        out.append(_environ(f"/webhooks/{kind}", body.replace("__UNIQUE__", unique).encode(),
                            {k: v.replace("__UNIQUE__", unique) for k, v in headers.items()}))
    return out


def call(app: WSGI, environ: dict) -> str:
    status: list[str] = []
    body = app(environ, lambda s, h, exc_info=None: status.append(s))
    b"".join(body)  # type: ignore[arg-type]
    if hasattr(body, "close"):
        body.close()  # type: ignore[union-attr]
    return status[0]


def measure(app: WSGI, kind: str, n: int, profile: bool = False, rounds: int = 3) -> tuple[float, float]:
    """(CPU µs, wall µs) per request, the best of `rounds` rounds of n distinct deliveries (the least
    disturbed by whatever else runs); every answer must be a 2xx."""
    for environ in requests_for(kind, 50):  # warm up: imports, connection pool, script cache
        call(app, environ)
    if profile:
        return _round(app, kind, n, profile)
    best = [_round(app, kind, n) for _ in range(rounds)]
    return min(c for c, _ in best), min(w for _, w in best)


def _round(app: WSGI, kind: str, n: int, profile: bool = False) -> tuple[float, float]:
    batch = requests_for(kind, n)
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for environ in batch:
        status = call(app, environ)
        if not status.startswith("2"):
            raise RuntimeError(f"{kind}: answered {status}")
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime")).print_stats(35)
    return cpu / n * 1e6, wall / n * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_profile")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--profile", choices=("gitlab", "alertmanager"), help="cProfile Dockyard's handler")
    parser.add_argument("--only", help="run only the targets whose name contains this")
    args = parser.parse_args(argv)
    from deploy.local.services import RedisServer

    work = Path(tempfile.mkdtemp(prefix="dockyard-ingest-profile-"))
    server = RedisServer(work / "redis").start()
    saved = dict(os.environ)  # the apps read their configuration from it; put it back afterwards
    try:
        os.environ.update({"DOCKYARD_REDIS_URL": server.url, "DOCKYARD_RULES_DIR": str(write_rules(work / "rules")),
                           "GITLAB_WEBHOOK_TOKEN": GITLAB_TOKEN, "ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN,
                           "DOCKYARD_LOG_LEVEL": "WARNING"})
        from bench import baselines
        from handlers.app import create_app

        dockyard = create_app().wsgi_app
        targets = [("dockyard gitlab", dockyard, "gitlab"), ("dockyard alertmanager", dockyard, "alertmanager"),
                   ("obvious gitlab", baselines.obvious().wsgi_app, "gitlab"),
                   ("obvious alertmanager", baselines.obvious().wsgi_app, "alertmanager"),
                   ("bare Flask LPUSH", baselines.bare_flask().wsgi_app, "gitlab"),
                   ("bare WSGI LPUSH", baselines.bare_wsgi(), "gitlab")]
        for name, app, kind in targets:
            if args.only and args.only not in name:
                continue
            profile = args.profile is not None and name == f"dockyard {args.profile}"
            cpu, wall = measure(app, kind, args.n, profile)
            print(f"{name:<24} {cpu:8.1f} µs CPU {wall:8.1f} µs wall per request", flush=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
