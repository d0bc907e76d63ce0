"""/scale and /autoscale: how many replicas, fixed or kept between bounds by CPU."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bots.commands.base import Command, Tokens, verb


@dataclass(frozen=True)
class Scale(Command):
    verb: ClassVar[str] = "scale"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.replicas.scale_command"
    changes: ClassVar[bool] = True
    service: str
    replicas: int
    env: str = "test"
    break_glass: str | None = None


@dataclass(frozen=True)
class Autoscale(Command):
    verb: ClassVar[str] = "autoscale"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.replicas.autoscale_command"
    changes: ClassVar[bool] = True
    service: str
    min_replicas: int  # 0-0 is `/autoscale <svc> off` (a range starts at 1)
    max_replicas: int
    cpu_percent: int | None = None  # None: the catalog's target (80% when it names none)
    env: str = "test"
    break_glass: str | None = None

    @property
    def off(self) -> bool:
        return self.max_replicas == 0


@verb("scale", "/scale <svc> <n> [in <env>] [--break-glass <reason>]", "set the number of replicas")
def parse_scale(t: Tokens, now: datetime) -> Command:
    service = t.service()
    replicas = t.integer("replicas", t.take("number of replicas"), 0, 200)
    env = t.optional_env("test")
    glass = t.break_glass()
    t.done()
    return Scale(service=service, replicas=replicas, env=env or "test", break_glass=glass)


@verb("autoscale", "/autoscale <svc> <min>-<max>|off [cpu=<pct>%] [in <env>] [--break-glass <reason>]", "keep replicas between min and max by CPU (HPA), or stop")
def parse_autoscale(t: Tokens, now: datetime) -> Command:
    service = t.service()
    bounds = t.take("replica range, like 2-10, or off")
    if bounds == "off":
        env = t.optional_env("test")
        glass = t.break_glass()
        t.done()
        return Autoscale(service=service, min_replicas=0, max_replicas=0, env=env or "test", break_glass=glass)
    match = re.fullmatch(r"(\d{1,3})-(\d{1,3})", bounds)
    if not match:
        raise t.fail(f"replica range must look like 2-10, got {bounds!r}")
    low, high = int(match.group(1)), int(match.group(2))
    if not 1 <= low <= high <= 200:
        raise t.fail(f"replica range must satisfy 1 ≤ min ≤ max ≤ 200, got {bounds}")
    cpu = None
    if t.peek() and t.peek().startswith("cpu="):  # type: ignore[union-attr]
        text = t.take("")[4:]
        if not re.fullmatch(r"\d{1,3}%?", text) or not 1 <= int(text.rstrip("%")) <= 100:
            raise t.fail(f"cpu target must be 1–100%, got {text!r}")
        cpu = int(text.rstrip("%"))
    env = t.optional_env("test")
    glass = t.break_glass()
    t.done()
    return Autoscale(service=service, min_replicas=low, max_replicas=high, cpu_percent=cpu, env=env or "test",
                     break_glass=glass)
