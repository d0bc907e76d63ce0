"""The image definition for Dockyard itself, checked statically: no Docker engine or registry exists here.

What a platform team building the image would notice: it installs the project's
own pins, runs as a non-root user, and every Procfile process can start in it.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import sys
from pathlib import Path

from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parent.parent


def _parsed() -> DockerfileParser:
    return DockerfileParser(path=str(ROOT / "Dockerfile"))


def _procfile() -> dict[str, list[str]]:
    out = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if command.strip():
            out[name.strip()] = shlex.split(command)
    return out


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (its patterns, without `!` exceptions)."""
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions would need a fuller matcher here"
    parts = Path(path).parts
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
        if pattern.startswith("**/") and any(fnmatch.fnmatch(part, bare) for part in parts):
            return True
    return False


def test_the_base_image_is_pinned_to_the_python_the_tests_run_on():
    base = _parsed().baseimage
    name, _, tag = base.partition(":")
    assert name == "python" and tag, f"FROM {base} has no tag: it would float"
    running = ".".join(map(str, sys.version_info[:3]))
    assert re.fullmatch(rf"{re.escape(running)}-slim(-\w+)?", tag), \
        f"FROM {base}: pin the full version the tests run on ({running}-slim-<debian release>)"


def test_it_installs_requirements_under_the_projects_constraints():
    runs = [i["value"] for i in _parsed().structure if i["instruction"] == "RUN"]
    installs = [r for r in runs if "pip install" in r]
    assert installs, "no pip install in the Dockerfile"
    assert all("-r requirements.txt" in r and "-c constraints.txt" in r for r in installs), installs
    copied = [i["value"] for i in _parsed().structure if i["instruction"] == "COPY"]
    # The pins are copied before the code, so a code change keeps the installed-packages layer.
    assert copied[0].split()[:-1] == ["requirements.txt", "constraints.txt"], copied


def test_it_runs_as_a_non_root_user_after_everything_is_installed():
    structure = _parsed().structure
    users = [i for i in structure if i["instruction"] == "USER"]
    assert users, "no USER: the processes would run as root"
    user = users[-1]["value"].split(":")[0]
    assert user not in ("root", "0"), f"USER {user} is root"
    assert users[-1]["startline"] > max(i["startline"] for i in structure if i["instruction"] in ("RUN", "COPY"))


def test_every_procfile_process_can_start_in_the_image():
    parser = _parsed()
    env = parser.envs
    assert env.get("PORT") == "8080"
    # web: the default command is exactly the Procfile's.
    assert json.loads(parser.cmd) == _procfile()["web"]
    # gunicorn comes from requirements.txt, on PATH through the image's virtualenv, which is also
    # where ./dockyard looks for its Python ($here/.venv/bin/python) from the WORKDIR.
    assert any(line.startswith("gunicorn==") for line in (ROOT / "requirements.txt").read_text().splitlines())
    workdir = parser.structure[[i["instruction"] for i in parser.structure].index("WORKDIR")]["value"]
    assert env["PATH"].startswith(f"{workdir}/.venv/bin:")
    assert '"$here/.venv/bin/python"' in (ROOT / "dockyard").read_text()
    for name, command in _procfile().items():
        program = command[0]
        if program.startswith("./"):
            assert not _ignored(program[2:]), f"{name}: .dockerignore keeps {program} out of the image"
        else:
            assert program == "gunicorn", f"{name}: {program} is neither ./dockyard nor installed"
    for needed in ("gunicorn.conf.py", "cli.py", "handlers/app.py", "core/config.py", "rules/catalog.yaml",
                   "deploy/manifests/rbac.py", "Procfile"):
        assert (ROOT / needed).exists() and not _ignored(needed), f"{needed} is kept out of the image"


def test_the_host_virtualenv_and_history_stay_out_of_the_image():
    for path in (".venv/bin/python", ".git/HEAD", ".run/web.log", "core/__pycache__/config.cpython-311.pyc",
                 "tests/conftest.py"):
        assert _ignored(path), f"{path} would be copied into the image"


def test_nothing_copied_into_the_image_imports_what_is_kept_out():
    """tests/ and bench/ stay out of the image, so no module in it may import them."""
    importing = re.compile(r"^\s*(from|import)\s+(tests|bench)\b", re.M)
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if not _ignored(relative):
            assert not importing.search(path.read_text()), f"{relative} imports a package the image lacks"
