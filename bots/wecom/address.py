"""A WeCom group robot: `{sink: wecom, robot: payments}` (a name from WECOM_ROBOT_WEBHOOK)."""

import re

from pydantic import field_validator

from bots.sinks.base import Address as _Base


class Address(_Base):
    robot: str

    @field_validator("robot")
    @classmethod
    def _robot(cls, value: str) -> str:
        if not re.fullmatch(r"[\w-]+", value):
            raise ValueError("needs `robot:` (a name from WECOM_ROBOT_WEBHOOK: letters, digits, - or _)")
        return value
