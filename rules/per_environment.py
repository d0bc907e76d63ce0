"""A raw catalog service entry filled in per environment before it is validated: the approval its stage
requires and its host (its own, the service's, or the catalog's host_pattern). Pure."""

from __future__ import annotations

import re
from typing import Any

from rules.strict import Located

HOST = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
HOST_ROUTERS = ("nginx", "istio", "gateway")  # the routers that route by host name


def check_host(value: str) -> str:
    """A host name an Ingress, VirtualService or HTTPRoute accepts (a leading `*.` is a wildcard)."""
    if len(value) > 253 or not HOST.match(value):
        raise ValueError(f"host {value!r} is not a DNS name like web.example.com "
                         f"(lowercase letters, digits, '-' and '.')")
    return value


def pattern_host(pattern: str, service: str, env: str) -> str | None:
    """`host_pattern` filled in for one service and environment (None when the pattern is unusable)."""
    try:
        return pattern.format(service=service, env=env)
    except (KeyError, IndexError, ValueError, AttributeError):
        return None



def raw_stages(value: Any) -> dict[str, str] | None:
    """The catalog's raw `environments:` as {name: approval} in order; None when malformed (validation says why)."""
    if not isinstance(value, list):
        return None
    out: dict[str, str] = {}
    for item in value:
        item = {"name": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        out[item["name"]] = item.get("approval", "none")
    return out


def host_claims(name: str, spec: dict, stages: dict[str, str], pattern: Any) -> list[tuple[str, str, tuple]]:
    """(environment, host, where it is written) for each environment of one raw service entry, in file order."""
    envs = {e: v for e, v in spec["environments"].items() if e in stages and isinstance(v, dict)}
    last = [e for e in stages if e in envs][-1:]
    production = list(stages)[-1]
    inherited: list[tuple[str, str, tuple]] = []
    claims: dict[str, tuple[str, str, tuple]] = {}
    for env, env_spec in envs.items():
        if isinstance(env_spec.get("host"), str):
            claims[env] = (env, env_spec["host"], ("services", name, "environments", env, "host"))
        elif [env] == last and isinstance(spec.get("host"), str):
            inherited.append((env, spec["host"], ("services", name, "host")))
        elif env != production and isinstance(pattern, str) and pattern_host(pattern, name, env):
            claims[env] = (env, pattern_host(pattern, name, env), ("services", name, "environments", env))
    keys = list(spec)  # the service's own host: counts where it is written, before or after environments:
    if "host" in keys and keys.index("host") < keys.index("environments"):
        return inherited + list(claims.values())
    return list(claims.values()) + inherited


def filled(name: str, spec: dict, stages: dict[str, str], hosts: dict[str, str]) -> dict:
    """A raw service entry with each environment's effective approval and host written in."""
    envs = {}
    for env, env_spec in spec["environments"].items():
        if isinstance(env_spec, dict) and stages.get(env) == "required":
            if env_spec.get("approval") == "none":
                raise Located(f"approval: none cannot loosen the catalog, whose environments: require approval "
                              f"in {env}; remove this line", "services", name, "environments", env, "approval")
            env_spec = {"approval": "required", **env_spec}  # what it says itself is checked as usual
        if isinstance(env_spec, dict) and env in hosts:
            env_spec = {**env_spec, "host": hosts[env]}
        envs[env] = env_spec
    return {**spec, "environments": envs}
