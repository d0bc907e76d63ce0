"""The processes a bench runs (gunicorn, `./dockyard worker|watcher|scheduler`), their memory, latencies."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

import requests

from deploy.local.services import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def env(redis_url: str, rules_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a Dockyard process: this Redis and rules, nothing inherited that points elsewhere."""
    out = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "DOCKYARD_REDIS_URL", "DOCKYARD_RULES_DIR")}
    out.update({"DOCKYARD_REDIS_URL": redis_url, "DOCKYARD_RULES_DIR": str(rules_dir),
                "DOCKYARD_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **extra})
    return out


def gunicorn(app: str, environ: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """`app` under gunicorn with the production settings (gunicorn.conf.py: gthread), 2 workers."""
    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), app], cwd=ROOT,
                            env={**environ, "PORT": str(port), "WEB_CONCURRENCY": "2"},
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"), start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: proc.poll() is None and requests.get(f"{base}/healthz", timeout=1).status_code < 500, 30,
               f"gunicorn {app} (see {log})")
    return proc, base


def dockyard(args: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen:
    """A Procfile process: `./dockyard <args>`."""
    return subprocess.Popen([str(ROOT / "dockyard"), *args], cwd=ROOT, env=environ, stdout=subprocess.DEVNULL,
                            stderr=open(log, "ab"), start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the process we started (gunicorn passes it on to its workers), then wait."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # the command name may hold spaces and parentheses: the parent pid follows the last ')'
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def rss_mib(pid: int, with_children: bool = True) -> float:
    """Resident memory of a process (and its children: gunicorn's workers, a worker's work horse), MiB."""
    pids, tree, total = [pid], _children() if with_children else {}, 0
    while pids:
        current = pids.pop()
        try:
            kib = next(line.split()[1] for line in Path(f"/proc/{current}/status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
            total += int(kib)
        except (OSError, StopIteration):
            continue
        pids.extend(tree.get(current, []))
    return total / 1024


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    """p50 and p99 of a list of latencies (ms); with few samples p99 is the largest."""
    if len(samples_ms) < 2:
        return (samples_ms[0], samples_ms[0]) if samples_ms else (0.0, 0.0)
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return q[49], q[98]
