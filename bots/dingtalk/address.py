"""A DingTalk channel: `{sink: dingtalk, robot: payments}` (a group robot from DINGTALK_ROBOT_WEBHOOK),
or `{sink: dingtalk, conversation: cid…}` (a group the app's robot is in, by its openConversationId:
interactive cards, updated in place)."""

import re

from pydantic import field_validator, model_validator

from bots.sinks.base import Address as _Base

CONVERSATION_ID = re.compile(r"cid[A-Za-z0-9+/=_-]{4,200}")


class Address(_Base):
    robot: str | None = None
    conversation: str | None = None

    @field_validator("robot")
    @classmethod
    def _robot(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("needs `robot:` (a name from DINGTALK_ROBOT_WEBHOOK)")
        return value

    @model_validator(mode="after")
    def _one(self) -> "Address":
        if (self.robot is None) == (self.conversation is None):
            raise ValueError("needs exactly one of `robot:` (a name from DINGTALK_ROBOT_WEBHOOK) or "
                             "`conversation:` (the openConversationId, cid…, of a group the app's robot is in)")
        if self.conversation is not None and not CONVERSATION_ID.fullmatch(self.conversation):
            raise ValueError("`conversation:` is a group's openConversationId, like cidXr1TNsFzHKy0Ejm2mMbLg==")
        return self
