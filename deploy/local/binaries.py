"""Provide the control-plane binaries: found, or built from the Go module proxy.

Stdlib only: it runs before the virtualenv exists (`make test` on a clean
machine calls it first). Usage:

    python3 deploy/local/binaries.py ensure   # prints the bin directory
    python3 deploy/local/binaries.py check    # exit 1 if anything is missing
    python3 deploy/local/binaries.py plan     # resolve every build from scratch, compile nothing
    python3 deploy/local/binaries.py helm     # prints the path of the pinned helm (built if missing)

Lookup order: $DOCKYARD_K8S_BIN, then the versioned cache directory
($DOCKYARD_CACHE or ~/.cache/dockyard), then a build into that cache. Every
binary found is checked with --version, so a stale cache is rebuilt, not used.
helm (for the chart in deploy/helm) has a cache directory of its own, keyed by
HELM_VERSION alone, so pinning or bumping it never rebuilds the control plane.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
K8S_TOOLS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
ALL_TOOLS = K8S_TOOLS + ("etcd", "kwok")


def versions() -> dict[str, str]:
    """The pinned versions from versions.env."""
    pins: dict[str, str] = {}
    for line in (HERE / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip()
    return pins


def cache_root() -> Path:
    return Path(os.environ.get("DOCKYARD_CACHE") or Path.home() / ".cache" / "dockyard")


def cache_dir(pins: dict[str, str]) -> Path:
    """Where built binaries live, keyed by every pinned version."""
    root = cache_root()
    key = f"k8s-{pins['K8S_VERSION']}_etcd-{pins['ETCD_VERSION']}_kwok-{pins['KWOK_VERSION']}"
    return root / key / "bin"


def expected_version(tool: str, pins: dict[str, str]) -> str:
    """The version string `tool --version` must contain."""
    if tool == "etcd":
        return pins["ETCD_VERSION"].lstrip("v")
    if tool in ("kwok", "helm"):
        return pins[f"{tool.upper()}_VERSION"]
    return pins["K8S_VERSION"]


def reported_version(path: Path, tool: str) -> str:
    """What the binary says about its own version ('' when it won't run)."""
    args = [str(path), *{"kubectl": ["version", "--client"], "helm": ["version", "--short"]}.get(tool, ["--version"])]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout + out.stderr


def missing_in(bin_dir: Path, pins: dict[str, str]) -> list[str]:
    """Tools absent from bin_dir or reporting another version."""
    missing = []
    for tool in ALL_TOOLS:
        path = bin_dir / tool
        if not path.is_file() or expected_version(tool, pins) not in reported_version(path, tool):
            missing.append(tool)
    return missing


class StepFailed(RuntimeError):
    """A build step failed; the message names the step and how to rerun it."""


def run_step(step: str, cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run one build step, failing with the step's name and the rerun command."""
    print(f"[binaries] {step}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise StepFailed(
            f"step '{step}' failed (exit {proc.returncode}).\n{tail}\n"
            f"rerun: cd {cwd} && {' '.join(cmd)}\n"
            f"or the whole build: python3 deploy/local/binaries.py ensure"
        )
    return proc.stdout


def go_env() -> dict[str, str]:
    """Go's environment for every step: no cgo, this machine's toolchain, read-only go.mod.

    -mod=readonly (Go's default, forced here against a GOFLAGS from outside)
    makes `go build` and `go list` fail rather than look up a missing module
    at its newest version: only `go get`, with exact versions, edits go.mod.
    """
    env = dict(os.environ)
    env.update(CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-mod=readonly")
    env.setdefault("GOPATH", str(Path.home() / "go"))
    return env


def pinned(module: str, version: str) -> str:
    """`module@version`, refusing anything but an exact semantic version.

    A bare path or a query (latest, upgrade, a branch) resolves to whatever the
    proxy holds today, so the same build would mean another thing next month.
    """
    if not re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version):
        raise StepFailed(f"'{module}@{version}' is not an exact version; pin it in {HERE / 'versions.env'}")
    return f"{module}@{version}"


def resolve_or_build(step: str, pkgs: list[str], out: Path, mod: Path, env: dict[str, str],
                     build_flags: list[str], compile_: bool) -> None:
    """Compile pkgs into out, or (plan mode) only check that every imported package resolves."""
    if compile_:
        run_step(f"{step}: build", ["go", "build", *build_flags, "-o", str(out), *pkgs], mod, env)
    else:
        run_step(f"{step}: resolve packages", ["go", "list", "-deps", "-f", "{{.ImportPath}}", *pkgs], mod, env)


def build_kubernetes(pins: dict[str, str], out: Path, work: Path, compile_: bool = True) -> None:
    """Build the four Kubernetes binaries in one `go build` from a scratch module."""
    version = pins["K8S_VERSION"]
    staging = "v0." + version.split(".", 1)[1]  # v1.36.3 -> v0.36.3
    env = go_env()
    mod = work / "k8s"
    mod.mkdir(parents=True, exist_ok=True)
    run_step("k8s: init scratch module", ["go", "mod", "init", "dockyard.local/k8sbuild"], mod, env)
    info = json.loads(run_step("k8s: download go.mod",
                               ["go", "mod", "download", "-json", pinned("k8s.io/kubernetes", version)], mod, env))
    upstream = json.loads(run_step("k8s: read go.mod", ["go", "mod", "edit", "-json", info["GoMod"]], mod, env))
    # Upstream replaces every staging module with ./staging/src/...; we point
    # them at the published module of the matching version instead.
    edits = [f"-replace={r['Old']['Path']}={pinned(r['Old']['Path'], staging)}"
             for r in upstream.get("Replace") or [] if r["New"]["Path"].startswith("./staging/")]
    edits += [f"-godebug={g['Key']}={g['Value']}" for g in upstream.get("Godebug") or []]
    go_line = upstream.get("Go") or "1.26.0"
    run_step("k8s: pin staging modules", ["go", "mod", "edit", f"-go={go_line}", *edits], mod, env)
    pkgs = [f"k8s.io/kubernetes/cmd/{tool}" for tool in K8S_TOOLS]
    # Each package with the version: a bare package path means @upgrade to `go get`.
    run_step("k8s: require kubernetes", ["go", "get", *(pinned(p, version) for p in pkgs)], mod, env)
    major, minor = version.lstrip("v").split(".")[:2]
    pkg = "k8s.io/component-base/version"
    ldflags = " ".join([
        "-s -w",
        f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}", f"-X {pkg}.gitMinor={minor}",
        f"-X {pkg}.gitTreeState=clean", f"-X {pkg}.buildDate={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        f"-X k8s.io/client-go/pkg/version.gitVersion={version}",
    ])
    resolve_or_build("k8s", pkgs, out, mod, env, ["-p", "2", "-trimpath", "-ldflags", ldflags], compile_)


def build_etcd(pins: dict[str, str], out: Path, work: Path, compile_: bool = True) -> None:
    """Build etcd from a scratch module (its go.mod has replaces, so no go install)."""
    version = pins["ETCD_VERSION"]
    env = go_env()
    mod = work / "etcd"
    mod.mkdir(parents=True, exist_ok=True)
    run_step("etcd: init scratch module", ["go", "mod", "init", "dockyard.local/etcdbuild"], mod, env)
    run_step("etcd: require server", ["go", "get", pinned("go.etcd.io/etcd/server/v3", version)], mod, env)
    ldflags = "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=dockyard"
    resolve_or_build("etcd", ["go.etcd.io/etcd/server/v3"], out / "etcd", mod, env,
                     ["-trimpath", "-ldflags", ldflags], compile_)


def scratch_module(name: str, module: str, version: str, work: Path, env: dict[str, str]) -> tuple[Path, dict]:
    """A scratch module at the Go version `module@version` asks for; returns it and the download's info.

    For modules without replaces (kwok, helm): requiring one of their packages
    then resolves exactly the versions their own go.mod names.
    """
    mod = work / name
    mod.mkdir(parents=True, exist_ok=True)
    run_step(f"{name}: init scratch module", ["go", "mod", "init", f"dockyard.local/{name}build"], mod, env)
    info = json.loads(run_step(f"{name}: download module",
                               ["go", "mod", "download", "-json", pinned(module, version)], mod, env))
    upstream = json.loads(run_step(f"{name}: read go.mod", ["go", "mod", "edit", "-json", info["GoMod"]], mod, env))
    if upstream.get("Go"):
        run_step(f"{name}: go version", ["go", "mod", "edit", f"-go={upstream['Go']}"], mod, env)
    return mod, info


def build_kwok(pins: dict[str, str], out: Path, work: Path, compile_: bool = True) -> None:
    """Build kwok from a scratch module, like the others, and copy its stage YAMLs.

    kwok's go.mod has no replaces, so requiring it alone resolves exactly the
    versions its own go.mod names; the scratch module lets plan mode resolve
    without compiling, the same steps as the build.
    """
    env = go_env()
    version = pins["KWOK_VERSION"]
    mod, info = scratch_module("kwok", "sigs.k8s.io/kwok", version, work, env)
    run_step("kwok: require kwok", ["go", "get", pinned("sigs.k8s.io/kwok/cmd/kwok", version)], mod, env)
    resolve_or_build("kwok", ["sigs.k8s.io/kwok/cmd/kwok"], out / "kwok", mod, env,
                     ["-trimpath", "-ldflags", "-s -w"], compile_)
    if not compile_:
        return
    stages = out.parent / "kwok-stages"
    if stages.exists():
        shutil.rmtree(stages)
    shutil.copytree(Path(info["Dir"]) / "kustomize" / "stage", stages)
    for path in stages.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def helm_dir(pins: dict[str, str]) -> Path:
    """Where the pinned helm lives: its own key, so the control plane's cache stays valid."""
    return cache_root() / f"helm-{pins['HELM_VERSION']}" / "bin"


def build_helm(pins: dict[str, str], out: Path, work: Path, compile_: bool = True) -> None:
    """Build helm from a scratch module requiring cmd/helm at the pinned version, like kwok.

    helm's go.mod has no replaces; the version it reports comes from ldflags,
    as its own Makefile sets them, so `helm version` names the pin.
    """
    env = go_env()
    version = pins["HELM_VERSION"]
    module = "helm.sh/helm/" + version.split(".", 1)[0]  # v4.3.2 -> helm.sh/helm/v4
    mod, _ = scratch_module("helm", module, version, work, env)
    run_step("helm: require helm", ["go", "get", pinned(f"{module}/cmd/helm", version)], mod, env)
    ldflags = f"-s -w -X {module}/internal/version.version={version} -X {module}/internal/version.gitTreeState=clean"
    resolve_or_build("helm", [f"{module}/cmd/helm"], out / "helm", mod, env,
                     ["-p", "2", "-trimpath", "-ldflags", ldflags], compile_)


def ensure_helm() -> Path:
    """Return the path of the pinned helm, building it into its own cache directory when missing."""
    pins = versions()
    out = helm_dir(pins)
    if expected_version("helm", pins) in reported_version(out / "helm", "helm"):
        return out / "helm"
    if shutil.which("go") is None:
        raise StepFailed("step 'find go' failed: Go is needed to build helm")
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dockyard-helm-") as work:
        build_helm(pins, out, Path(work))
    print(f"[binaries] built helm in {time.monotonic() - started:.0f}s", file=sys.stderr)
    if expected_version("helm", pins) not in reported_version(out / "helm", "helm"):
        raise StepFailed(f"step 'check helm version' failed: {out / 'helm'} does not report {pins['HELM_VERSION']}")
    return out / "helm"


CRD_SOURCES = (  # (module, version key, file in the module, CRD names to keep)
    ("sigs.k8s.io/gateway-api", "GATEWAY_API_VERSION", "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
     ("httproutes.gateway.networking.k8s.io",)),
    ("istio.io/api", "ISTIO_API_VERSION", "kubernetes/customresourcedefinitions.gen.yaml",
     ("virtualservices.networking.istio.io", "destinationrules.networking.istio.io")),
)


def crd_file(pins: dict[str, str]) -> Path:
    """One multi-document YAML with the router CRDs, next to the binaries."""
    return cache_root() / "crds" / f"gateway-{pins['GATEWAY_API_VERSION']}_istio-{pins['ISTIO_API_VERSION']}.yaml"


def fetch_crds(pins: dict[str, str], work: Path) -> Path:
    """Extract the Gateway API HTTPRoute and Istio VirtualService CRDs from their Go modules."""
    out = crd_file(pins)
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    env = go_env()
    docs: list[str] = []
    for module, key, path, names in CRD_SOURCES:
        info = json.loads(run_step(f"crds: download {module}", ["go", "mod", "download", "-json",
                                                                pinned(module, pins[key])], work, env))
        text = (Path(info["Dir"]) / path).read_text()
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            match = re.search(r"^metadata:\n(?:  .*\n)*?  name: (\S+)", doc, flags=re.M)
            if match and match.group(1) in names:
                docs.append(doc.strip())
    if len(docs) != sum(len(n) for *_, n in CRD_SOURCES):
        raise StepFailed(f"step 'crds: extract' found {len(docs)} of the router CRDs; check {HERE / 'versions.env'}")
    out.write_text("\n---\n".join(docs) + "\n")
    return out


BUILDERS = {"kubernetes": (K8S_TOOLS, build_kubernetes), "etcd": (("etcd",), build_etcd),
            "kwok": (("kwok",), build_kwok)}


def ensure() -> Path:
    """Return a directory holding every pinned binary (building what is missing); fetch the CRDs."""
    pins = versions()
    with tempfile.TemporaryDirectory(prefix="dockyard-crds-") as work:
        fetch_crds(pins, Path(work))
    override = os.environ.get("DOCKYARD_K8S_BIN")
    if override:
        missing = missing_in(Path(override), pins)
        if missing:
            raise StepFailed(f"DOCKYARD_K8S_BIN={override} lacks {', '.join(missing)} at the pinned "
                             f"versions ({HERE / 'versions.env'}); unset it to build them")
        return Path(override)
    out = cache_dir(pins)
    out.mkdir(parents=True, exist_ok=True)
    missing = missing_in(out, pins)
    if missing and shutil.which("go") is None:
        raise StepFailed("step 'find go' failed: Go is needed to build " + ", ".join(missing))
    for name, (tools, build) in BUILDERS.items():
        if any(tool in missing for tool in tools):
            started = time.monotonic()
            with tempfile.TemporaryDirectory(prefix=f"dockyard-{name}-") as work:
                build(pins, out, Path(work))
            print(f"[binaries] built {name} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    still = missing_in(out, pins)
    if still:
        raise StepFailed(f"step 'check --version' failed for {', '.join(still)} in {out}")
    return out


def plan(names: list[str] | None = None) -> None:
    """Resolve every build from scratch (fresh scratch modules, the module proxy), compiling nothing.

    Catches a build that no longer resolves (a floating version, a retracted or
    conflicting module) on machines whose binaries are cached and never rebuild.
    """
    pins = versions()
    planned = {name: build for name, (_, build) in BUILDERS.items()} | {"helm": build_helm}
    for name in names or list(planned):
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"dockyard-plan-{name}-") as work:
            planned[name](pins, Path(work), Path(work), False)
        print(f"[binaries] {name} resolves in {time.monotonic() - started:.0f}s", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="dockyard-plan-crds-") as work:
        for module, key, _, _ in CRD_SOURCES:
            run_step(f"crds: resolve {module}", ["go", "mod", "download", "-json", pinned(module, pins[key])],
                     Path(work), go_env())


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "ensure"
    try:
        if cmd == "ensure":
            print(ensure())
        elif cmd == "helm":
            print(ensure_helm())
        elif cmd == "plan":
            plan(argv[2:] or None)
        elif cmd == "check":
            pins = versions()
            where = Path(os.environ.get("DOCKYARD_K8S_BIN") or cache_dir(pins))
            missing = missing_in(where, pins)
            print(f"{where}: " + (f"missing {', '.join(missing)}" if missing else "complete"))
            return 1 if missing else 0
        else:
            print(f"usage: {argv[0]} ensure|check|helm|plan [kubernetes|etcd|kwok|helm ...]", file=sys.stderr)
            return 2
    except StepFailed as exc:
        print(f"[binaries] {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
