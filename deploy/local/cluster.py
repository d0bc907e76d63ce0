"""A real local control plane: etcd, kube-apiserver, controller-manager, scheduler, kwok.

The Gateway API HTTPRoute and Istio VirtualService CRDs are installed too, so
every traffic router can be exercised.

kwok also plays the kubelet's API: the nodes' ExternalIP is 127.0.0.1 and their kubelet
port is kwok's server, so `kubectl logs` (and Dockyard's /logs) reach it. Pods in the
catalog's namespaces print the canned lines of `pod-logs/running.log`, and
`pod-logs/previous.log` as their previous (crashed) container's output.

No containers run: kwok plays kubelet for three fake nodes, so Deployments,
ReplicaSets, Jobs, EndpointSlices, Events and RBAC are all the real thing.
Used by `./dockyard cluster up|down|status`, `make run` and the test suite.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


from deploy.local import binaries, pki
from deploy.manifests import rbac
from deploy.render import NODE_CLASS_LABEL

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STOCK_STAGES = ("node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
                "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml")
# Three fake nodes in two classes, so nodeSelector and anti-affinity mean something.
NODES = (("kwok-node-0", "general"), ("kwok-node-1", "general"), ("kwok-node-2", "highmem"))
NODE_IP = "10.0.0.1"  # what pods show as their hostIP
POD_LOGS = HERE / "pod-logs"
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class ClusterError(RuntimeError):
    """Starting or talking to the local cluster failed; the message says where to look."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_dir(name: str | None = None) -> Path:
    """Where a local cluster keeps its state: `.run/cluster`, or `.run/cluster-<name>` for a named one.

    Named clusters run side by side (each on its own free ports), for environments split across clusters.
    """
    base = Path(os.environ.get("DOCKYARD_CLUSTER_DIR") or ROOT / ".run" / "cluster")
    return base if not name else base.with_name(f"{base.name}-{name}")


def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise ClusterError(f"{what} failed: {' '.join(cmd[:3])} ...\n{proc.stderr.strip()[-2000:]}")
    return proc


@dataclass
class LocalCluster:
    """One cluster's directory, ports and processes."""

    root: Path
    namespaces: list[str] = field(default_factory=list)
    bin_dir: Path | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def dockyard_kubeconfig(self) -> Path:
        return self.root / "dockyard.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    def tool(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def kubectl(self, *args: str, kubeconfig: Path | None = None, stdin: str | None = None) -> str:
        """Run kubectl against this cluster (admin unless told otherwise)."""
        cmd = [self.tool("kubectl"), "--kubeconfig", str(kubeconfig or self.admin_kubeconfig), *args]
        return _run(cmd, f"kubectl {' '.join(args[:2])}", input=stdin, timeout=120).stdout

    def write_kubeconfig(self, path: Path, user: str, token: str, namespace: str = "default") -> Path:
        return pki.write_kubeconfig(path, self.server, self.root / "pki" / "ca.crt", user, token, namespace)

    # --- processes ---------------------------------------------------------------------------

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.root / "logs" / f"{name}.log", "ab")
        binary = "kwok" if name == "kwok" else name
        self.procs[name] = subprocess.Popen([self.tool(binary), *args], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def _wait(self, name: str, check, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ClusterError(f"{name} exited with {proc.returncode}; see {self.root / 'logs' / name}.log")
            try:
                if check():
                    return
            except Exception as exc:  # still starting
                last = str(exc)
            time.sleep(0.2)
        raise ClusterError(f"{name} not ready after {timeout:.0f}s ({last}); see {self.root / 'logs' / name}.log")

    def _https_ok(self, path: str, token: str) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.root / "pki" / "ca.crt"))
        req = urllib.request.Request(self.server + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, context=ctx, timeout=3) as resp:
            return resp.status == 200

    def start_etcd(self) -> None:
        client, peer = self.ports["etcd"], self.ports["etcd-peer"]
        self._start("etcd", [
            "--name", "dockyard", "--data-dir", str(self.root / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls",
            f"http://127.0.0.1:{client}", "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"dockyard=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync", "--log-level", "warn"])
        self._wait("etcd", lambda: urllib.request.urlopen(f"http://127.0.0.1:{client}/health", timeout=2).status
                   == 200, 30)

    @property
    def audit_log(self) -> Path:
        return self.root / "logs" / "audit.log"

    def _audit_policy(self) -> Path:
        """Metadata-level audit of Dockyard's identity only: which verbs it really calls, at little cost."""
        policy = self.root / "audit-policy.json"
        policy.write_text(json.dumps({
            "apiVersion": "audit.k8s.io/v1", "kind": "Policy",
            # ResponseStarted stays: a watch is logged when it starts, not only when it ends.
            "omitStages": ["RequestReceived"],
            "rules": [{"level": "Metadata", "users": [rbac.USER]}, {"level": "None"}]}))
        return policy

    def start_apiserver(self, admin_token: str) -> None:
        pki = self.root / "pki"
        self._start("kube-apiserver", [
            "--audit-policy-file", str(self._audit_policy()), "--audit-log-path", str(self.audit_log),
            "--audit-log-maxsize", "100", "--audit-log-maxbackup", "1",
            "--etcd-servers", f"http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--secure-port", str(self.ports["apiserver"]),
            "--tls-cert-file", str(pki / "apiserver.crt"), "--tls-private-key-file", str(pki / "apiserver.key"),
            "--client-ca-file", str(pki / "ca.crt"),
            "--token-auth-file", str(pki / "tokens.csv"),
            "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(pki / "sa.pub"),
            "--service-account-signing-key-file", str(pki / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16",
            "--endpoint-reconciler-type", "none",
            "--enable-priority-and-fairness=false",
            "--allow-privileged=true",
            "--event-ttl", "2h",
            "--kubelet-preferred-address-types", "ExternalIP",  # 127.0.0.1: kwok's kubelet API (logs)
        ])
        self._wait("kube-apiserver", lambda: self._https_ok("/readyz", admin_token), 90)

    def start_controllers(self, tokens: dict[str, str]) -> None:
        pki = self.root / "pki"
        kcm = self.write_kubeconfig(self.root / "controller-manager.kubeconfig", "system:kube-controller-manager",
                                    tokens["system:kube-controller-manager"])
        sched = self.write_kubeconfig(self.root / "scheduler.kubeconfig", "system:kube-scheduler",
                                      tokens["system:kube-scheduler"])
        self._start("kube-controller-manager", [
            "--kubeconfig", str(kcm), "--controllers", "*", "--leader-elect=false",
            "--use-service-account-credentials=true",
            "--service-account-private-key-file", str(pki / "sa.key"), "--root-ca-file", str(pki / "ca.crt"),
            "--bind-address", "127.0.0.1", "--secure-port", str(self.ports["controller-manager"]),
            "--authentication-skip-lookup=true", "--node-monitor-grace-period", "60s",
        ])
        self._start("kube-scheduler", [
            "--kubeconfig", str(sched), "--leader-elect=false",
            "--authentication-kubeconfig", str(sched), "--authorization-kubeconfig", str(sched),
            "--bind-address", "127.0.0.1", "--secure-port", str(self.ports["scheduler"]),
        ])

    def start_kwok(self) -> None:
        assert self.bin_dir is not None
        stock = self.bin_dir.parent / "kwok-stages"
        configs = [stock / s for s in STOCK_STAGES] + sorted((HERE / "stages").glob("*.yaml"))
        args = ["--kubeconfig", str(self.admin_kubeconfig),
                "--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
                "--node-lease-duration-seconds", "40", "--cidr", "10.244.0.0/16", "--node-ip", NODE_IP,
                "--server-address", f"127.0.0.1:{self.ports['kwok']}", "--node-port", str(self.ports["kwok"])]
        for config in configs + [self._pod_logs_config()]:
            args += ["--config", str(config)]
        self._start("kwok", args)

    def _pod_logs_config(self) -> Path:
        """kwok's ClusterLogs: each pod in the catalog's namespaces prints the canned lines (absolute paths)."""
        config = self.root / "pod-logs.json"
        config.write_text(json.dumps({
            "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "dockyard-pod-logs"},
            "spec": {"selector": {"matchNamespaces": self.namespaces}, "logs": [{
                "logsFile": str(POD_LOGS / "running.log"), "previousLogsFile": str(POD_LOGS / "previous.log")}]}}))
        return config

    # --- bootstrap ---------------------------------------------------------------------------

    def _bootstrap(self) -> None:
        nodes = [{
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    NODE_CLASS_LABEL: klass}},
            # The apiserver reaches a node's kubelet API (logs) at its ExternalIP: kwok's server on 127.0.0.1.
            "status": {"addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "ExternalIP",
                                                                              "address": "127.0.0.1"},
                                     {"type": "Hostname", "address": name}],
                       "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
        } for name, klass in NODES]
        crds = binaries.crd_file(binaries.versions())
        self.kubectl("apply", "--server-side", "--field-manager", "dockyard-bootstrap", "-f", str(crds))
        self.kubectl("wait", "--for", "condition=Established", "--timeout", "60s", "-f", str(crds))
        objects = nodes + rbac.render(self.namespaces)
        self.kubectl("apply", "--server-side", "--field-manager", "dockyard-bootstrap", "-f", "-",
                     stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        for ns in rbac.namespaces_of(self.namespaces):  # pods need the namespace's default ServiceAccount
            self._wait("kube-controller-manager",
                       lambda ns=ns: bool(self.kubectl("get", "serviceaccount", "default", "-n", ns,
                                                       "-o", "name")), 60)
        self._wait("kwok", lambda: self.kubectl(
            "get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"
        ).split() == ["True"] * len(NODES), 60)
        token = self.kubectl("create", "token", rbac.SERVICE_ACCOUNT, "-n", rbac.SYSTEM_NAMESPACE,
                             "--duration", "8760h").strip()
        self.write_kubeconfig(self.dockyard_kubeconfig, f"system:serviceaccount:{rbac.SYSTEM_NAMESPACE}:dockyard",
                              token, rbac.SYSTEM_NAMESPACE)

    # --- lifecycle ---------------------------------------------------------------------------

    def up(self) -> "LocalCluster":
        """Start every component and wait until nodes are Ready and identities exist."""
        if self.running():
            raise ClusterError(f"a cluster is already running from {self.root}; stop it first")
        started = time.monotonic()
        self.bin_dir = self.bin_dir or binaries.ensure()
        # The local cluster is disposable: every `up` starts from an empty etcd, never from the last run's objects.
        shutil.rmtree(self.root / "etcd", ignore_errors=True)
        for sub in ("logs", "pki"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in ("etcd", "etcd-peer", "apiserver", "controller-manager",
                                                     "scheduler", "kwok")}
        try:
            pki.make_pki(self.root / "pki")
            tokens = pki.make_tokens(self.root / "pki")
            self.start_etcd()
            self.start_apiserver(tokens["admin"])
            self.write_kubeconfig(self.admin_kubeconfig, "admin", tokens["admin"])
            self.start_controllers(tokens)
            self.start_kwok()
            self._save()
            self._bootstrap()
        except BaseException:
            self.down()
            raise
        self.startup_seconds = time.monotonic() - started
        self._save()
        return self

    def _save(self) -> None:
        state = {"pids": {n: p.pid for n, p in self.procs.items()}, "ports": self.ports,
                 "bin_dir": str(self.bin_dir), "namespaces": self.namespaces}
        (self.root / "state.json").write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, root: Path) -> "LocalCluster":
        """A cluster started earlier (perhaps by another process) from its state file."""
        state = json.loads((root / "state.json").read_text())
        cluster = cls(root=root, namespaces=state["namespaces"], bin_dir=Path(state["bin_dir"]),
                      ports=state["ports"])
        cluster.pids = state["pids"]
        return cluster

    def _pids(self) -> dict[str, int]:
        if self.procs:
            return {n: p.pid for n, p in self.procs.items()}
        return getattr(self, "pids", {})

    def running(self) -> bool:
        pids = self._pids()
        if not pids and (self.root / "state.json").exists():
            pids = json.loads((self.root / "state.json").read_text())["pids"]
        return bool(pids) and all(_alive(pid) for pid in pids.values())

    def stop(self, name: str) -> None:
        """Stop one component (tests restart the apiserver to prove recovery)."""
        pid = self._pids().get(name)
        if pid and _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            _wait_gone(pid, 15)
        if name in self.procs:
            self.procs[name].wait(5)

    def restart_apiserver(self) -> None:
        """Stop and start kube-apiserver on the same port, with the same credentials."""
        self.stop("kube-apiserver")
        admin = next(line.split(",")[0] for line in (self.root / "pki" / "tokens.csv").read_text().splitlines()
                     if ",admin," in line)
        self.start_apiserver(admin)
        self._save()

    def down(self) -> None:
        """Stop every component, newest first."""
        for name in reversed(ORDER):
            self.stop(name)

    def status(self) -> dict:
        pids = self._pids()
        return {"dir": str(self.root), "server": self.server if self.ports else None,
                "components": {n: ("running" if n in pids and _alive(pids[n]) else "stopped") for n in ORDER},
                "admin_kubeconfig": str(self.admin_kubeconfig), "dockyard_kubeconfig": str(self.dockyard_kubeconfig)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
