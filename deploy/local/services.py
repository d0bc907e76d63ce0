"""Start real local services (tests, benchmarks): a free port, a process, a readiness wait."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests
from redis import Redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll `check` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # the service is still coming up
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout}s" + (f": {last}" if last else ""))


class RedisServer:
    """A real redis-server on a free loopback port, data in a temp dir."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        wait_until(lambda: Redis(port=self.port).ping(), 10, f"redis-server on {self.port}")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Alertmanager:
    """Debian's prometheus-alertmanager on a free port, sending webhooks to Dockyard with a bearer token."""

    def __init__(self, workdir: Path, webhook_url: str, token: str):
        self.port = free_port()
        self.workdir = workdir
        self.webhook_url, self.token = webhook_url, token
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Alertmanager":

        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "alertmanager.yml").write_text(f"""
route:
  receiver: dockyard
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
- name: dockyard
  webhook_configs:
  - url: {self.webhook_url}
    send_resolved: true
    max_alerts: 100
    http_config:
      authorization:
        type: Bearer
        credentials: {self.token}
""")
        self.proc = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={self.workdir / 'alertmanager.yml'}",
             f"--storage.path={self.workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=open(self.workdir / "alertmanager.log", "ab"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"{self.url}/-/ready", timeout=1).ok, 20, "alertmanager")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Prometheus:
    """Debian's prometheus on a free port, scraping the given targets every second."""

    def __init__(self, workdir: Path, targets: list[str]):
        self.port = free_port()
        self.workdir = workdir
        self.targets = targets
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Prometheus":
        self.workdir.mkdir(parents=True, exist_ok=True)
        targets = ", ".join(f"'{t}'" for t in self.targets)
        (self.workdir / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
- job_name: services
  static_configs:
  - targets: [{targets}]
""")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"],
            stdout=open(self.workdir / "prometheus.log", "ab"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"{self.url}/-/ready", timeout=1).ok, 30, "prometheus")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
