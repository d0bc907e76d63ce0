"""routing.yaml as typed models: channels (checked by their sinks' address models), routes, quiet hours."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator, model_validator

from bots import i18n
from bots.sinks import registry
from rules.strict import Located, Strict


class QuietHours(Strict):
    """Hours (in the channel's `timezone:`, else UTC; may wrap midnight) when only some severities reach
    a channel; the rest wait."""

    start: str
    end: str
    let_through: list[str] = ["critical"]

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time like 22:00")
        return value


class Channel(BaseModel):
    """Where a message can be delivered: a sink plus its address, which the sink's own model checks.

    `locale`, `timezone` and `prefix` say how this channel reads its messages; unset, the
    DOCKYARD_LOCALE, DOCKYARD_TIMEZONE and DOCKYARD_MESSAGE_PREFIX settings apply.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    sink: str
    quiet_hours: QuietHours | None = None
    locale: str | None = None
    timezone: str | None = None
    prefix: str | None = None  # e.g. the keyword a DingTalk robot secured by 自定义关键词 requires
    _target: dict = PrivateAttr(default_factory=dict)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else i18n.check_locale(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else i18n.check_zone(value)

    @model_validator(mode="after")
    def _address(self) -> "Channel":
        self._target = {"sink": self.sink, **registry.check_address(self.sink, dict(self.model_extra or {}))}
        return self

    @property
    def address(self) -> dict:
        """The sink's address fields, as a delivery target."""
        return dict(self._target)


class Route(Strict):
    """Send events whose labels match every key here to these channels."""

    match: dict[str, str] = {}
    to: list[str]
    stop: bool = True


class Routing(Strict):
    """routing.yaml: named channels and label-matching routes, first match wins."""

    channels: dict[str, Channel]
    routes: list[Route] = []
    default: list[str]

    @model_validator(mode="after")
    def _references(self) -> "Routing":
        names = [(n, ("routes", i, "to")) for i, r in enumerate(self.routes) for n in r.to]
        names += [(n, ("default",)) for n in self.default]
        for name, loc in names:
            if name not in self.channels:
                raise Located(f"route names channel {name!r}, which is not under channels:", *loc)
        return self
