"""The fault suite's parts: the Procfile's processes (killable as a pod's death kills), an AOF Redis, the load.

Processes are started from the Procfile's own lines, each in a session of its own; `kill` SIGKILLs a
process and everything below it (gunicorn's workers, an RQ work horse, which RQ puts in a process
group of its own), as a container's death would. The load is a steady stream of signed GitLab pushes
through the web process and console chat commands, recording what each sender was told.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from redis import Redis
from redis.exceptions import RedisError

from bots.pipeline import ChatRequest, submit
from core.runtime import Runtime
from deploy.local.services import RedisServer, wait_until

ROOT = Path(__file__).resolve().parent.parent
HOOK_TOKEN = "fault-hook-secret"
# `always`: Redis fsyncs the AOF before it answers a write, so a kill -9 of redis-server loses no write it
# acknowledged. `everysec` (Redis's default) may lose the last second of acknowledged writes.
APPENDFSYNC = "always"


def procfile() -> dict[str, str]:
    """The Procfile's process types and their commands."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in (l.partition(":") for l in lines if ":" in l)}


class AofRedis(RedisServer):
    """redis-server with `appendonly yes` and APPENDFSYNC; killed with -9 and restarted from its AOF."""

    def start(self) -> "AofRedis":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--save", "", "--appendonly", "yes", "--appendfsync", APPENDFSYNC],
            stdout=open(self.workdir / "redis.log", "ab"), stderr=subprocess.STDOUT)
        wait_until(lambda: Redis(port=self.port).ping(), 20, f"redis-server on {self.port} (loading its AOF)")
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(") ", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def tree(pid: int) -> list[int]:
    """pid and every process below it."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(_children(current))
    return out


class Procs:
    """The Procfile's processes, several replicas each, started as `make run` starts them."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env = {**env, "PATH": f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', os.environ['PATH'])}"}
        self.logs = logs
        self.commands = procfile()
        self.running: dict[str, subprocess.Popen] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, extra: str = "") -> subprocess.Popen:
        """Start one replica; `name` is a Procfile type, optionally with a replica suffix (worker.2)."""
        kind = name.split(".")[0]
        log = open(self.logs / f"{name}.log", "ab")
        proc = subprocess.Popen(["bash", "-c", f"exec {self.commands[kind]} {extra}".strip()], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running[name] = proc
        return proc

    def kill(self, name: str) -> list[int]:
        """SIGKILL the replica and everything below it at once, as a container's death would."""
        proc = self.running[name]
        pids = tree(proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)
        return pids

    def revive(self) -> list[str]:
        """Start again every replica that exited, as Kubernetes restarts a container; the names restarted."""
        dead = [name for name, proc in self.running.items() if proc.poll() is not None]
        for name in dead:
            self.start(name)
        return dead

    def stop_all(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                for pid in tree(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.wait(10)


@dataclass
class Sent:
    """What the senders were told: pushes by delivery id, commands by conversation, every HTTP status."""

    pushes: dict[str, dict] = field(default_factory=dict)  # delivery → {service, sha, accepted}
    commands: dict[str, dict] = field(default_factory=dict)  # conversation → {text, job, accepted}
    statuses: dict[str, int] = field(default_factory=dict)  # "202", "503", "refused" (no connection) ...
    bad: list[str] = field(default_factory=list)  # a 5xx without a reason and Retry-After

    def accepted_pushes(self) -> list[dict]:
        return [p for p in self.pushes.values() if p["accepted"]]

    def accepted_commands(self) -> list[dict]:
        return [c for c in self.commands.values() if c["accepted"]]


class Stream:
    """A steady stream of GitLab pushes (each to its own service) and console commands, in a thread.

    Like GitLab, a push answered 5xx or not answered at all is sent again with the same delivery id until
    it is accepted or reported a duplicate (an earlier attempt was accepted, its answer lost).
    """

    def __init__(self, rt: Runtime, web: str, services: list[str], command: str = "/status {service}",
                 every: float = 0.5):
        self.rt, self.web, self.services, self.command, self.every = rt, web, services, command, every
        self.sent = Sent()
        self.stop_sending = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.names = iter(services)
        self.tick = itertools.count()

    def start(self) -> "Stream":
        self.thread.start()
        return self

    def _count(self, status: str) -> None:
        self.sent.statuses[status] = self.sent.statuses.get(status, 0) + 1

    def push(self, delivery: str) -> None:
        p = self.sent.pushes[delivery]
        body = {"object_kind": "push", "ref": "refs/heads/main", "before": "0" * 40, "after": p["sha"],
                "checkout_sha": p["sha"], "user_username": "alice", "commits": [],
                "project": {"path_with_namespace": f"shop/{p['service']}"}}
        headers = {"X-Gitlab-Token": HOOK_TOKEN, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": delivery}
        try:
            response = requests.post(f"{self.web}/webhooks/gitlab", json=body, headers=headers, timeout=10)
        except requests.RequestException:
            self._count("refused")
            return
        self._count(str(response.status_code))
        if response.status_code >= 500:
            error = response.json().get("error", "") if response.headers.get("Content-Type", "").startswith(
                "application/json") else ""
            if response.status_code != 503 or not error or not response.headers.get("Retry-After"):
                self.sent.bad.append(f"{response.status_code} {response.text[:200]}")
            return
        assert response.status_code in (200, 202), response.text
        p["accepted"] = True

    def chat(self, service: str) -> None:
        conversation = uuid.uuid4().hex
        text = self.command.format(service=service)
        entry = {"text": text, "conversation": conversation, "job": None, "accepted": False}
        self.sent.commands[conversation] = entry
        try:
            outcome = submit(self.rt, ChatRequest("console", "alice", text,
                                                  {"sink": "console", "conversation": conversation}))
        except RedisError:  # `./dockyard chat` says Redis is unreachable; the user sends it again later
            self._count("chat-refused")
            return
        assert outcome.accepted, outcome.message.title
        entry.update(job=outcome.job_id, accepted=True)

    def _run(self) -> None:
        while not self.stop_sending.is_set():
            for delivery, p in list(self.sent.pushes.items()):
                if not p["accepted"]:
                    self.push(delivery)
            service = next(self.names, None)
            if service is not None:
                delivery = f"d-{uuid.uuid4().hex}"
                self.sent.pushes[delivery] = {"service": service, "sha": uuid.uuid4().hex + "00000000",
                                              "accepted": False}
                self.push(delivery)
            if next(self.tick) % 2 == 0:
                self.chat(self.services[0])
            self.stop_sending.wait(self.every)

    def finish(self, retry_for: float = 60) -> Sent:
        """Send the rest of the pushes, then stop; retry unanswered ones (GitLab would) until each is accepted."""
        wait_until(lambda: len(self.sent.pushes) == len(self.services), 120, "the stream's last push", interval=0.2)
        self.stop_sending.set()
        self.thread.join(30)
        deadline = time.monotonic() + retry_for
        while time.monotonic() < deadline and any(not p["accepted"] for p in self.sent.pushes.values()):
            for delivery, p in list(self.sent.pushes.items()):
                if not p["accepted"]:
                    self.push(delivery)
            time.sleep(0.5)
        return self.sent


def probe_without_redis(web: str) -> dict[str, int]:
    """Every inbound endpoint once while Redis is down: each must say 503, why, and when to retry."""
    push = {"object_kind": "push", "ref": "refs/heads/main", "after": "b" * 40, "checkout_sha": "b" * 40,
            "user_username": "alice", "project": {"path_with_namespace": "shop/f0"}}
    alert = {"version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing", "receiver": "dockyard",
             "groupLabels": {"alertname": "X"}, "commonLabels": {"alertname": "X"}, "commonAnnotations": {},
             "externalURL": "http://am:9093", "alerts": [{"status": "firing", "labels": {"alertname": "X"},
                                                          "annotations": {}, "startsAt": "2026-12-04T10:00:00Z"}]}
    asked = {
        "/webhooks/gitlab": dict(json=push, headers={"X-Gitlab-Token": HOOK_TOKEN, "X-Gitlab-Event": "Push Hook",
                                                     "X-Gitlab-Event-UUID": "probe-1"}),
        "/webhooks/alertmanager": dict(json=alert, headers={"Authorization": "Bearer fault-am-token"}),
    }
    out = {}
    for path, kwargs in asked.items():
        response = requests.post(f"{web}{path}", timeout=10, **kwargs)
        out[path] = response.status_code
        assert response.status_code == 503, (path, response.status_code, response.text)
        assert response.headers["Retry-After"] == "5" and "Redis is unreachable" in response.json()["error"]
    ready = requests.get(f"{web}/readyz", timeout=10)
    out["/readyz"] = ready.status_code
    assert ready.status_code == 503 and "redis unreachable" in ready.json()["reasons"][0]
    return out


def write_counts(name: str, counts: dict) -> None:
    """One scenario's counts: a line on stdout (pytest -s) and .run/faults/<name>.json for the README."""
    out = ROOT / ".run" / "faults"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(counts, indent=2) + "\n")
    cells = "  ".join(f"{k}={v}" for k, v in counts.items() if k != "scenario")
    print(f"\n[faults] {name:<22} {cells}", flush=True)


def env_for(redis_url: str, rules_dir: Path, kubeconfig: Path, gitlab_url: str, gitlab_token: str,
            port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "DOCKYARD_REDIS_URL")}
    env.update({"DOCKYARD_REDIS_URL": redis_url, "DOCKYARD_RULES_DIR": str(rules_dir), "KUBECONFIG": str(kubeconfig),
                "GITLAB_URL": gitlab_url, "GITLAB_TOKEN": gitlab_token, "GITLAB_WEBHOOK_TOKEN": HOOK_TOKEN,
                "ALERTMANAGER_WEBHOOK_TOKEN": "fault-am-token", "PORT": str(port), "WEB_CONCURRENCY": "2",
                "WEB_THREADS": "8", "DOCKYARD_JOB_RETRIES": "3", "DOCKYARD_JOB_BACKOFF": "2,5,15"})
    return env


def web_ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False

