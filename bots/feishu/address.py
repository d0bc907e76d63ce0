"""A Feishu channel: `{sink: feishu, robot: payments}` (a custom bot from FEISHU_ROBOT_WEBHOOK), or
`{sink: feishu, chat: oc_…}` (a group the Dockyard app's bot is in: its cards have working buttons)."""

import re

from pydantic import model_validator

from bots.sinks.base import Address as _Base


class Address(_Base):
    robot: str | None = None
    chat: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "Address":
        if (self.robot is None) == (self.chat is None):
            raise ValueError("needs exactly one of `robot:` (a name from FEISHU_ROBOT_WEBHOOK) "
                             "or `chat:` (a chat id like oc_… the Dockyard app is in)")
        if self.robot is not None and not re.fullmatch(r"[\w-]+", self.robot):
            raise ValueError("`robot:` is a name from FEISHU_ROBOT_WEBHOOK: letters, digits, - or _")
        if self.chat is not None and not re.fullmatch(r"oc_[\w-]+", self.chat):
            raise ValueError("`chat:` is a Feishu chat id like oc_5ad11d72b830411d72b836c20")
        return self
