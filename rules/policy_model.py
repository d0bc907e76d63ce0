"""policy.yaml as typed models: roles, users and their grants, recurring freeze windows."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rules.strict import Located, Strict


class Grant(Strict):
    """A role over some services (by name or team, '*' for all) in some environments."""

    role: str
    services: list[str] = ["*"]
    teams: list[str] = []
    envs: list[str] = ["*"]


class User(Strict):
    """A person, their chat identities and what they may do."""

    slack: str | None = None
    dingtalk: str | None = None
    wecom: str | None = None  # WeCom userid (FromUserName)
    feishu: str | None = None  # Feishu open_id (ou_…) or the tenant's user_id
    grants: list[Grant] = []


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class FreezeWindow(Strict):
    """A recurring time when changes to some environments are refused (weekends, nights, holidays).

    A window matches when every condition it names holds, in the configured time zone:
    a weekday it lists, a date it lists, and a time between `from` and `to` (which may wrap midnight).
    """

    envs: list[str]
    reason: str
    weekdays: list[Literal[WEEKDAYS]] = []  # type: ignore[valid-type]
    dates: list[str] = []  # YYYY-MM-DD, e.g. a holiday calendar
    start: str | None = Field(None, alias="from")  # HH:MM
    end: str | None = Field(None, alias="to")

    @field_validator("dates")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        for day in value:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(f"date {day!r} is not YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _window(self) -> "FreezeWindow":
        for value in (self.start, self.end):
            if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
                raise ValueError(f"time {value!r} is not HH:MM")
        if (self.start is None) != (self.end is None):
            raise ValueError("give both `from` and `to`, or neither")
        if not (self.weekdays or self.dates or self.start):
            raise ValueError("a freeze window needs weekdays, dates or from/to")
        return self


class Policy(Strict):
    """policy.yaml: roles (sets of actions), users and their grants, and recurring freeze windows."""

    roles: dict[str, list[str]]
    anonymous: list[str] = ["viewer"]
    approvers: list[str] = []  # roles whose holders may approve others' prod deploys
    users: dict[str, User]
    freezes: list[FreezeWindow] = []

    @model_validator(mode="after")
    def _references(self) -> "Policy":
        for name, user in self.users.items():
            for index, grant in enumerate(user.grants):
                if grant.role not in self.roles:
                    raise Located(f"user {name!r} is granted role {grant.role!r}, which is not under roles:",
                                  "users", name, "grants", index, "role")
        for key in ("anonymous", "approvers"):
            for role in getattr(self, key):
                if role not in self.roles:
                    raise Located(f"role {role!r} is not under roles:", key)
        return self
