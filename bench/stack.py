"""Dockyard as the Procfile runs it, for the bench: one Redis, the web app under gunicorn, the workers, the
watcher and the scheduler as real processes, a DingTalk robot stand-in, and (when a section needs it) the
local control plane. Everything lives in a temp directory and is stopped at the end."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from redis import Redis

from bench import procs
from core.config import from_env
from core.runtime import Runtime
from deploy.local.services import RedisServer
from rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
GITLAB_TOKEN, ALERTMANAGER_TOKEN = "bench-gitlab-token", "bench-alertmanager-token"
DING_TOKEN, DING_SECRET = "bench-robot", "SECbenchrobot"
NS, ENV = "shop-test", "test"
SCALED = "bscale"  # the service `chat→patched` scales
OOM_PODS = 31  # boom00 (a warm-up) .. boom30: one fresh incident each
def procfile() -> dict[str, list[str]]:
    """The Procfile's `./dockyard` processes as their arguments (web, gunicorn, is started apart)."""
    out = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        words = shlex.split(command)
        if words and words[0] == "./dockyard":
            out[name.strip()] = words[1:]
    return out


PROCFILE = procfile()


def oom_service(i: int) -> str:
    return f"boom{i:02d}"


def write_rules(directory: Path) -> Path:
    """The example rules, plus the bench's services (team payments, whose channel is the console) in
    shop-test; storefront's channel is a DingTalk robot (the burst's destination)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "rules" / "policy.yaml", directory / "policy.yaml")
    routing = yaml.safe_load((ROOT / "rules" / "routing.yaml").read_text())
    routing["channels"]["storefront"] = {"sink": "dingtalk", "robot": "storefront"}
    (directory / "routing.yaml").write_text(yaml.safe_dump(routing))
    catalog = yaml.safe_load((ROOT / "rules" / "catalog.yaml").read_text())
    for name in [SCALED] + [oom_service(i) for i in range(OOM_PODS)]:
        catalog["services"][name] = {
            "team": "payments", "language": "node", "git": f"pay/{name}", "port": 3000, "router": "replicas",
            "environments": {ENV: {"namespace": NS, "replicas": 2, "resources": "0.5C1G", "progress_deadline": 30}}}
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return directory


class Stack:
    def __init__(self, keep: bool = False):
        self.dir = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
        self.keep = keep
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.redis_server = RedisServer(self.dir / "redis").start()
        self.redis = Redis.from_url(self.redis_server.url)
        self.rules_dir = write_rules(self.dir / "rules")
        from tests.fakes.dingtalk_api import DingTalkAPI  # the stand-in that enforces 20 messages a minute

        self.dingtalk = DingTalkAPI({DING_TOKEN: DING_SECRET}).start()
        self.cluster = None
        self.procs: dict[str, subprocess.Popen] = {}
        self.web_url = ""
        self.rest_mib: dict[str, float] = {}  # each process's resident memory once started and idle
        self.cluster_seconds = 0.0

    # --- configuration ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        extra = {"GITLAB_WEBHOOK_TOKEN": GITLAB_TOKEN, "ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN,
                 "DINGTALK_ROBOT_WEBHOOK": f"storefront={self.dingtalk.url}/robot/send?access_token={DING_TOKEN}",
                 "DINGTALK_ROBOT_SECRET": DING_SECRET, "DOCKYARD_JOB_RETRIES": "1", "DOCKYARD_JOB_BACKOFF": "0"}
        if self.cluster is not None:
            extra["KUBECONFIG"] = str(self.cluster.dockyard_kubeconfig)
        return procs.env(self.redis_server.url, self.rules_dir, **extra)

    def runtime(self) -> Runtime:
        """A runtime configured exactly like the processes (for submit() in the bench process)."""
        settings = from_env(self.env())
        return Runtime(settings=settings, rules=load_rules(settings.rules_dir))

    # --- processes -------------------------------------------------------------------------------

    def up_cluster(self) -> None:
        if self.cluster is not None:
            return
        if self.procs:
            raise RuntimeError("start the cluster before Dockyard's processes, so they get its KUBECONFIG")
        from deploy.local.cluster import LocalCluster

        rules = load_rules(self.rules_dir)
        namespaces = sorted({e.namespace for s in rules.catalog.services.values() for e in s.environments.values()})
        started = time.monotonic()
        self.cluster = LocalCluster(root=self.dir / "cluster", namespaces=namespaces).up()
        self.cluster_seconds = time.monotonic() - started

    def web(self) -> str:
        if not self.web_url:
            self.procs["web"], self.web_url = procs.gunicorn("handlers.app:create_app()", self.env(),
                                                              self.logs / "web.log")
            self._rested("web")
        return self.web_url

    def start(self, *names: str) -> None:
        """Start Procfile processes (worker, notifier, watcher, scheduler) not yet running; a name the
        Procfile no longer has is skipped (its queues are then another process's)."""
        for name in names:
            if name == "web":
                self.web()
            elif name in PROCFILE and name not in self.procs:
                self.procs[name] = procs.dockyard(PROCFILE[name], self.env(), self.logs / f"{name}.log")
                self._rested(name)

    def _rested(self, name: str) -> None:
        time.sleep(3)  # imported, connected and idle
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited with {self.procs[name].returncode}; see {self.logs / name}.log")
        self.rest_mib[name] = procs.rss_mib(self.procs[name].pid)

    def check_alive(self) -> None:
        """A process that exits mid-section fails the section naming its log, rather than a timeout later."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.logs / name}.log")

    def clear_queues(self) -> None:
        """Forget what a section left (tens of thousands of jobs from wrk), so the next starts empty.

        Only while no worker runs: a flush would also drop a worker's registration and the watcher's lease."""
        if set(self.procs) - {"web"}:
            raise RuntimeError("clear_queues runs before the workers start (ingest is the first section)")
        self.redis.flushdb()

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            procs.stop(proc)
        self.dingtalk.stop()
        if self.cluster is not None:
            self.cluster.down()
        self.redis_server.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
