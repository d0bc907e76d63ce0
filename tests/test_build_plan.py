"""The set-up resolves the same way next month: every version pinned, the Go build plan resolvable from scratch.

A machine with cached binaries never rebuilds, so a build that stopped
resolving (a floating version, a new upstream release that conflicts) would
only show on the next clean machine. These tests resolve the whole plan again
against the module proxy, without compiling, on every `make test`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local import binaries

ROOT = Path(__file__).resolve().parent.parent
EXACT = re.compile(r"^[A-Za-z0-9_.\-\[\],]+==[0-9][0-9A-Za-z.+\-]*$")


def test_every_control_plane_version_is_exact():
    pins = binaries.versions()
    assert set(pins) >= {"K8S_VERSION", "ETCD_VERSION", "KWOK_VERSION", "GATEWAY_API_VERSION", "ISTIO_API_VERSION",
                         "HELM_VERSION"}
    for key, version in pins.items():
        binaries.pinned(key, version)  # raises StepFailed naming the file when a pin floats


@pytest.mark.parametrize("version", ["latest", "upgrade", "master", "v1.36", "", "v1.36.3 ; rm -rf /"])
def test_a_floating_version_is_refused_with_where_to_pin_it(version):
    with pytest.raises(binaries.StepFailed, match="not an exact version.*versions.env"):
        binaries.pinned("k8s.io/kubernetes", version)


def test_every_go_command_in_the_build_names_an_exact_version():
    """Reads the build functions' source: a module or package argument without @vX.Y.Z resolves @upgrade."""
    source = (ROOT / "deploy" / "local" / "binaries.py").read_text()
    for match in re.finditer(r'\["go", "(get|install|mod", "download)[^\]]*\]', source):
        args = match.group(0)
        assert "pinned(" in args, f"a go command without pinned(): {args}"


def test_python_requirements_and_constraints_pin_everything_installed():
    for name in ("requirements.txt", "requirements-dev.txt", "constraints.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-r "):
                assert EXACT.match(line), f"{name}: {line!r} is not pinned with =="
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                            check=True).stdout
    for line in frozen.splitlines():
        if "==" not in line:
            continue
        name, version = line.split("==")
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in ("pip", "setuptools", "wheel"):
            continue  # the interpreter's own venv bootstrap
        assert pinned.get(key) == version, (f"{name}=={version} is installed but constraints.txt says "
                                            f"{pinned.get(key)}; run `make lock` and commit constraints.txt")


@pytest.mark.timeout(600)
def test_the_whole_control_plane_build_resolves_from_scratch():
    """Fresh scratch modules, the real module proxy, no compiling: what a clean machine's build would resolve."""
    proc = subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "binaries.py"), "plan"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail("the control-plane build no longer resolves on a clean machine:\n"
                    + proc.stderr[-4000:] + "\nrerun it alone: make k8s-plan", pytrace=False)
    for name in ("kubernetes", "etcd", "kwok", "helm"):
        assert f"[binaries] {name} resolves in" in proc.stderr
