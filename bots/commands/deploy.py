"""/deploy: roll out an image (rolling, canary at N%, preview), then promote or abort a canary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from bots.commands.base import Command, Tokens, verb
from core import durations

TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
KEYWORDS = {"to", "in", "at", "every", "rolling", "canary", "preview", "promote", "abort", "--break-glass"}


@dataclass(frozen=True)
class Deploy(Command):
    verb: ClassVar[str] = "deploy"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.rollout.deploy_command"
    changes: ClassVar[bool] = True
    service: str
    tag: str | None = None
    env: str = "test"
    strategy: Literal["rolling", "canary", "preview"] = "rolling"
    weight: int | None = None
    break_glass: str | None = None  # reason to deploy an image the environment before never ran (or in a freeze)
    at: datetime | None = None  # a timed deploy: approved now, run then
    steps: tuple[int, ...] = ()  # a canary plan: weights one after another, each after its analysis
    every_seconds: int = 0
    catalog_plan: bool = False  # `canary plan`: the service's canary_plan from the catalog


@dataclass(frozen=True)
class DeployControl(Command):
    """`/deploy <svc> promote | abort`: finish or cancel a live canary."""

    verb: ClassVar[str] = "deploy"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.rollout.control_command"
    changes: ClassVar[bool] = True
    service: str
    step: Literal["promote", "abort", "pause", "resume"]
    env: str = "test"
    break_glass: str | None = None

    @property
    def gated(self) -> bool:
        # Abort returns traffic to the approved stable version; pause and resume hold or continue a plan
        # that was approved whole. Only promote changes what runs.
        return self.step == "promote"


@dataclass(frozen=True)
class PlanStep(Command):
    """The next step of a canary plan, fired by the scheduler (not typed in chat)."""

    verb: ClassVar[str] = "deploy"
    queue: ClassVar[str] = "rollouts"
    job: ClassVar[str | None] = "jobs.plans.step_command"
    service: str
    env: str
    plan_id: str
    index: int
    failures: int


@verb("deploy", "/deploy <svc> [<tag>] [to <env>] [rolling | canary <N>% | canary <N>,<M>,..% every <interval> | "
                "canary plan | preview] [at <time> | in <duration>] [--break-glass <reason>]  ·  "
                "/deploy <svc> promote | abort | pause | resume [in <env>] [--break-glass <reason>]",
      "roll out an image: rolling, canary at N% (then promote or abort), or preview")
def parse(t: Tokens, now: datetime) -> Command:
    service = t.service()
    step = t.accept("promote", "abort", "pause", "resume")
    if step:
        env = t.optional_env("test")
        glass = t.break_glass()
        t.done()
        return DeployControl(service=service, step=step, env=env or "test", break_glass=glass)  # type: ignore[arg-type]
    tag = None
    if t.peek() is not None and t.peek() not in KEYWORDS:
        tag = t.take("tag")
        if not TAG.match(tag):
            raise t.fail(f"{tag!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
    env, at = None, None

    def where_and_when() -> None:  # `to|in <env>`, `in <duration>`, `at <time>`: before or after the strategy
        nonlocal env, at
        while (word := t.accept("to", "in", "at")) is not None:
            following = t.peek() or ""
            if word == "at" or (word == "in" and durations.to_seconds(following) is not None):
                at = t.time(t.take("time, like 22:00, 2h or 2026-12-01T09:00"), now)
            else:
                env = t.env()

    where_and_when()
    strategy, weight = "rolling", None
    steps: tuple[int, ...] = ()
    every, catalog_plan = 0, False
    word = t.accept("rolling", "canary", "preview")
    if word == "canary":
        text = t.take("canary weight, like 10%, or steps like 10,30,60%")
        if text == "plan":
            catalog_plan = True
        elif re.fullmatch(r"\d{1,2}(,\d{1,2})+%?", text):
            steps = tuple(int(w) for w in text.rstrip("%").split(","))
            if any(not 1 <= w <= 99 for w in steps) or list(steps) != sorted(set(steps)):
                raise t.fail(f"canary steps must rise between 1 and 99%, got {text}")
        elif not re.fullmatch(r"-?\d{1,6}%?", text):
            raise t.fail(f"canary weight must be a percentage like 10%, got {text!r}")
        else:
            weight = int(text.rstrip("%"))
            if not 1 <= weight <= 99:
                raise t.fail(f"canary weight must be 1–99%, got {text}")
        if steps and t.accept("every"):
            every = t.duration("every", t.take("interval, like 10m"), 10, 86400)
        elif steps:
            raise t.fail("a canary plan needs `every <interval>`, like every 10m")
        if steps:
            weight = steps[0]
        strategy = "canary"
    elif word:
        strategy = word
    where_and_when()  # the environment and the time may also come last
    break_glass = t.break_glass()
    t.done()
    return Deploy(service=service, tag=tag, env=env or "test", strategy=strategy, weight=weight,  # type: ignore[arg-type]
                  break_glass=break_glass, at=at, steps=steps, every_seconds=every, catalog_plan=catalog_plan)
