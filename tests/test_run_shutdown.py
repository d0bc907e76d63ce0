"""`make run` stops everything it started: on Ctrl-C, on SIGTERM, and when its terminal goes away.

Every process of the run carries a marker in its environment (inherited by
the control plane, the Procfile processes and the stand-ins alike), so the
test can find whatever would be left behind, whoever its parent became. Redis
rewrites its process title over its environment, so it is found by its port.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import termios
import uuid
from pathlib import Path

import pytest
import requests
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from deploy.local.services import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def marked(mark: str) -> dict[int, str]:
    """pid → command line of every live process whose environment carries the marker."""
    found = {}
    needle = f"DOCKYARD_RUN_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                if (entry / "stat").read_text().split(") ", 1)[1].split()[0] == "Z":
                    continue  # a zombie is gone; only its parent's bookkeeping is left
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except (OSError, IndexError):
            continue
    return found


def kill_marked(mark: str) -> None:
    for pid in marked(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _where(pid: int) -> str:
    """A process's state and the kernel function it waits in: where a stop got stuck."""
    try:
        state = next(line.split(":", 1)[1].strip() for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                     if line.startswith("State:"))
        return f"[{state}, {Path(f'/proc/{pid}/wchan').read_text() or '-'}]"
    except (OSError, StopIteration):
        return "[gone]"


def _controlling_tty() -> None:
    """In the child, after setsid: make the pty this session's terminal, as a terminal emulator does, with the
    signals a shell in a terminal starts with. Ignored signals are inherited: a suite started under `nohup`
    (SIGHUP ignored) or as a background job (SIGINT ignored) would hand make run signals it cannot trap."""
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class MakeRun:
    """`make run` in a session of its own on a pseudo-terminal, with its own ports."""

    def __init__(self, tmp: Path, kubeconfig: str | None = None):
        self.mark = uuid.uuid4().hex
        self.port = free_port()
        self.redis_port = free_port()
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
               "DOCKYARD_RUN_MARK": self.mark, "PORT": str(self.port),
               "DOCKYARD_REDIS_PORT": str(self.redis_port), "DOCKYARD_GITLAB_PORT": str(free_port()),
               "DOCKYARD_ALERTMANAGER_PORT": str(free_port()), "DOCKYARD_CLUSTER_DIR": str(tmp / "cluster")}
        for key in ("DOCKYARD_CACHE", "DOCKYARD_K8S_BIN", "GOPATH", "GOMODCACHE"):
            if key in os.environ:
                env[key] = os.environ[key]
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                                     stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, preexec_fn=_controlling_tty)
        os.close(slave)
        self.output = bytearray()

    def drain(self) -> None:
        """Keep the terminal's buffer from filling (a full pty would block the run's writes)."""
        os.set_blocking(self.master, False)
        try:
            while chunk := os.read(self.master, 65536):
                self.output += chunk
        except (BlockingIOError, OSError):
            pass

    def wait_serving(self) -> None:
        def up() -> bool:
            self.drain()
            assert self.proc.poll() is None, f"make run exited:\n{self.output.decode(errors='replace')[-3000:]}"
            names = " ".join(marked(self.mark).values())
            return (requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200
                    and "worker" in names and "watcher" in names and self.redis_answers())
        wait_until(up, 240, "make run serving /readyz with its worker and watcher", interval=0.5)

    def kill_everything(self) -> None:
        """Whatever the test's outcome, nothing of this run outlives it."""
        kill_marked(self.mark)
        if self.redis_answers():
            Redis(port=self.redis_port).shutdown(nosave=True)

    def redis_answers(self) -> bool:
        try:
            return Redis(port=self.redis_port, socket_connect_timeout=1).ping()
        except RedisConnectionError:
            return False

    def wait_stopped(self) -> None:
        def gone() -> bool:
            if self.master >= 0:
                self.drain()
            return self.proc.poll() is not None
        try:
            # Its cleanup gives honcho 30 s and each group 10 s before KILL, then stops the control plane:
            # on a loaded 2-core machine that has taken past two minutes.
            wait_until(gone, 240, "make run to exit", interval=0.2)
        except TimeoutError as late:
            raise AssertionError(f"{late}; still running (pid, state, kernel wait, command):\n" + "\n".join(
                f"{p} {_where(p)} {c}" for p, c in marked(self.mark).items())
                + f"\nits output before the terminal closed:\n{self.output.decode(errors='replace')[-2000:]}") from None
        # Everything it started is stopped before it exits; a short grace covers the last KILLs landing.
        try:
            wait_until(lambda: not marked(self.mark), 10, "the run's processes to go", interval=0.2)
        except TimeoutError:
            pass
        left = marked(self.mark)
        kill_marked(self.mark)  # never leak into the rest of the session, whatever the assertion says
        assert not left, "left running after make run stopped:\n" + "\n".join(f"{p} {c}" for p, c in left.items())
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
        assert not self.redis_answers(), "make run left its Redis running"


@pytest.mark.timeout(600)
def test_closing_the_terminal_stops_everything_make_run_started(tmp_path):
    """Its own Redis, control plane, GitLab stand-in, Alertmanager and every Procfile process."""
    run = MakeRun(tmp_path)
    try:
        run.wait_serving()
        names = " ".join(marked(run.mark).values())
        for part in ("kube-apiserver", "etcd", "kwok", "gitlab_standin", "alertmanager", "gunicorn"):
            assert part in names, f"{part} is not running under make run: {names}"
        # The terminal goes away: its master side closes (writes now fail) and the shell hangs up the job.
        os.close(run.master)
        run.master = -1
        os.killpg(run.proc.pid, signal.SIGHUP)
        run.wait_stopped()
    finally:
        run.kill_everything()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_everything_make_run_started(tmp_path, cluster, how):
    """Against the session's control plane (KUBECONFIG set), so only the run's own parts start."""
    run = MakeRun(tmp_path, kubeconfig=str(cluster.admin_kubeconfig))
    try:
        run.wait_serving()
        if how == "ctrl-c":
            os.killpg(run.proc.pid, signal.SIGINT)  # the terminal sends it to the whole foreground job
        else:
            run.proc.send_signal(signal.SIGTERM)  # a supervisor stops make alone
        run.wait_stopped()
    finally:
        run.kill_everything()
        if run.master >= 0:
            os.close(run.master)
