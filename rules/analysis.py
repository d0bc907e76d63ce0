"""Canary analysis in the catalog: Prometheus queries with thresholds, and a default step plan."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PLACEHOLDERS = ("service", "namespace", "env", "canary", "stable", "track")


class Metric(BaseModel):
    """One PromQL query and the bound its value must keep. Placeholders: {service} {namespace} {env}
    {canary} {stable} (workload names) and {track} (canary)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    query: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> "Metric":
        if self.min is None and self.max is None:
            raise ValueError(f"metric {self.name!r} needs `min:` or `max:`")
        unknown = set(re.findall(r"\{(\w+)\}", self.query)) - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(f"metric {self.name!r}: unknown placeholder {{{sorted(unknown)[0]}}}; "
                             f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return self


class Analysis(BaseModel):
    """Checked before each step of a canary plan; `failure_limit` failures in a row abort the canary."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    failure_limit: int = Field(2, ge=1, le=20)
    metrics: list[Metric]


class CanaryPlan(BaseModel):
    """The service's default plan for `/deploy <svc> <tag> canary plan`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    steps: list[int]
    every: str = "10m"
    max_age: str = "24h"  # a canary or preview live longer than this gets a reminder in the channel

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= w <= 99 for w in value) or value != sorted(set(value)):
            raise ValueError("steps are rising canary weights between 1 and 99, like [10, 30, 60]")
        return value

    @field_validator("every", "max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not re.fullmatch(r"\d{1,6}[smhd]", value):
            raise ValueError(f"{value!r} is not a duration like 10m")
        return value
