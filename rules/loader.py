"""Load rules/*.yaml into typed models; any error names the file, line and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rules.models import Catalog, Rules
from rules.policy_model import Policy
from rules.routing_model import Routing

FILES: dict[str, type[BaseModel]] = {"catalog": Catalog, "routing": Routing, "policy": Policy}
Model = TypeVar("Model", bound=BaseModel)


class RulesError(ValueError):
    """Invalid rules: the message is `file:line: reason`, ready to print."""


def _line_map(node: yaml.Node, path: tuple = (), lines: dict | None = None) -> dict[tuple, int]:
    """Map every key path in a composed YAML document to its 1-based line."""
    lines = {} if lines is None else lines
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines[child] = key.start_mark.line + 1
            _line_map(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _line_map(item, path + (index,), lines)
    return lines


def _locate(loc: tuple, lines: dict[tuple, int]) -> int:
    """The line of the longest prefix of a pydantic error location that exists."""
    parts = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    for end in range(len(parts), -1, -1):
        if parts[:end] in lines:
            return lines[parts[:end]]
    return 1


def load_file(path: Path, model: type[Model]) -> Model:
    """Parse and validate one rules file."""
    if not path.is_file():
        raise RulesError(f"{path}: missing (expected a {model.__name__} file; see rules/ in the repository)")
    text = path.read_text()
    try:
        node = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise RulesError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise RulesError(f"{path}:1: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = _line_map(node) if node is not None else {}
        first = exc.errors()[0]
        located = (first.get("ctx") or {}).get("error")
        if getattr(located, "loc", None):
            first = {**first, "loc": located.loc}
        elif getattr(located, "within", None):  # a key inside the value that failed (rules/workload.py)
            first = {**first, "loc": (*first["loc"], *located.within)}
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        reason = first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RulesError(f"{path}:{_locate(first['loc'], lines)}: {where}: {reason}{more}") from None


def load_rules(directory: str | Path) -> Rules:
    """Load catalog.yaml, routing.yaml and policy.yaml from a directory and cross-check them."""
    root = Path(directory)
    parts = {name: load_file(root / f"{name}.yaml", model) for name, model in FILES.items()}
    rules = Rules(**parts)
    catalog = root / "catalog.yaml"
    channels = rules.routing.channels
    refs = [(("teams", team, "channel"), spec.channel) for team, spec in rules.catalog.teams.items()]
    refs += [(("services", name, "channel"), svc.channel) for name, svc in rules.catalog.services.items()
             if svc.channel]
    for loc, channel in refs:
        if channel not in channels:
            line = _locate(loc, _line_map(yaml.compose(catalog.read_text())))
            raise RulesError(f"{catalog}:{line}: {'.'.join(loc)}: channel {channel!r} is not defined "
                             f"under channels: in {root / 'routing.yaml'}")
    _check_policy_envs(root / "policy.yaml", rules)
    return rules


def _check_policy_envs(path: Path, rules: Rules) -> None:
    """Grants and freeze windows name only the catalog's environments (or '*'): a typo would grant nothing."""
    known = rules.catalog.environment_names
    refs = [(("users", name, "grants", index, "envs", at), env) for name, user in rules.policy.users.items()
            for index, grant in enumerate(user.grants) for at, env in enumerate(grant.envs)]
    refs += [(("freezes", index, "envs", at), env) for index, window in enumerate(rules.policy.freezes)
             for at, env in enumerate(window.envs)]
    for loc, env in refs:
        if env != "*" and env not in known:
            line = _locate(loc, _line_map(yaml.compose(path.read_text())))
            raise RulesError(f"{path}:{line}: {'.'.join(map(str, loc))}: environment {env!r} is not one of the "
                             f"catalog's environments: ({', '.join(known)})")
