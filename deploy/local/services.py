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


class SentinelSet:
    """A Redis primary, one replica and three Sentinels watching them, all real, on loopback.

    Built from Debian's redis-server (its --sentinel mode is redis-sentinel). down-after 1 s and a
    quick failover timeout, so a test sees the replica promoted within seconds of the primary's death.
    """

    MASTER = "dockyard"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.ports = {"primary": free_port(), "replica": free_port()}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.MASTER}/0"

    def _server(self, name: str, *extra: str) -> None:
        data = self.workdir / name
        data.mkdir(parents=True, exist_ok=True)
        self.procs[name] = subprocess.Popen(
            ["redis-server", "--port", str(self.ports[name]), "--bind", "127.0.0.1", "--dir", str(data),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self) -> "SentinelSet":
        self._server("primary")
        wait_until(lambda: Redis(port=self.ports["primary"]).ping(), 10, "the primary")
        self._server("replica", "--replicaof", "127.0.0.1", str(self.ports["primary"]))
        wait_until(lambda: Redis(port=self.ports["replica"]).info("replication").get("master_link_status") == "up",
                   15, "the replica in sync")
        for i, port in enumerate(self.sentinel_ports):
            conf = self.workdir / f"sentinel-{i}.conf"
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                            f"sentinel monitor {self.MASTER} 127.0.0.1 {self.ports['primary']} 2\n"
                            f"sentinel down-after-milliseconds {self.MASTER} 1000\n"
                            f"sentinel failover-timeout {self.MASTER} 5000\n"
                            f"sentinel parallel-syncs {self.MASTER} 1\n")
            self.procs[f"sentinel-{i}"] = subprocess.Popen(["redis-server", str(conf), "--sentinel"],
                                                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: all(Redis(port=port).ping() for port in self.sentinel_ports), 10, "the sentinels")
        wait_until(lambda: all(int(Redis(port=port).sentinel_master(self.MASTER).get("num-other-sentinels", 0)) == 2
                               for port in self.sentinel_ports), 20, "the sentinels to know each other")
        return self

    def primary_port(self) -> int:
        host, port = Redis(port=self.sentinel_ports[0]).sentinel_get_master_addr_by_name(self.MASTER)
        return int(port)

    def kill(self, name: str) -> None:
        """SIGKILL one data server (as a crash would)."""
        self.procs[name].kill()
        self.procs[name].wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)


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
