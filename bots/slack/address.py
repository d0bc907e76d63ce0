"""A Slack channel: `{sink: slack, channel: C0123…}` (an id, or #name)."""

from pydantic import field_validator

from bots.sinks.base import Address as _Base


class Address(_Base):
    channel: str

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("needs `channel:` (an id like C0123 or #name)")
        return value
