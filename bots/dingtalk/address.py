"""A DingTalk group robot: `{sink: dingtalk, robot: payments}` (a name from DINGTALK_ROBOT_WEBHOOK)."""

from pydantic import field_validator

from bots.sinks.base import Address as _Base


class Address(_Base):
    robot: str

    @field_validator("robot")
    @classmethod
    def _robot(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("needs `robot:` (a name from DINGTALK_ROBOT_WEBHOOK)")
        return value
