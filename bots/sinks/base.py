"""The one interface every chat sink implements, and the error it raises. Knows no sink."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from bots.message import Message

if TYPE_CHECKING:  # the runtime loads the rules, whose channels are checked by the sinks' address models
    from core.runtime import Runtime


class SinkError(RuntimeError):
    """Delivery failed; `retryable` says whether trying again could help."""

    def __init__(self, reason: str, retryable: bool = True):
        super().__init__(reason)
        self.retryable = retryable


class Address(BaseModel):
    """Base of each sink's address model: the fields a routing channel gives it (rules/routing.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sink(Protocol):
    """Deliver messages to one chat platform."""

    name: ClassVar[str]
    # Bytes (UTF-8) of a message's lines it delivers whole. An answer that could be longer (/logs)
    # fits itself under it and says what it left out, rather than the sink cutting its end off.
    text_budget: ClassVar[int]

    @classmethod
    def from_runtime(cls, rt: "Runtime") -> "Sink":
        """The sink configured from the process's settings."""

    def post(self, target: dict, message: Message) -> str:
        """Send a new message; returns a reference that update() accepts."""

    def edits(self, target: dict) -> bool:
        """Whether update() changes, in place, a message this sink posted to `target`.

        A property of the destination, not of the platform: a DingTalk or Feishu group robot can
        only send, while the same platform's app can edit its own cards. Where it is False, an
        intermediate update (a rollout's progress) is not sent at all, and a changed headline
        arrives as a new message.
        """

    def update(self, target: dict, ref: str, message: Message) -> str:
        """Replace the message `ref` names (or send a new one where `edits(target)` is False).

        Returns the ref to update next time. An edit the platform refuses (a card too old to
        change) arrives as a new message rather than being lost.
        """
