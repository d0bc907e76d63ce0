"""Chat sinks share one small interface; adding WeCom or Feishu is one module here."""

from __future__ import annotations

from typing import Protocol

from bots.message import Message


class SinkError(RuntimeError):
    """Delivery failed; `retryable` says whether trying again could help."""

    def __init__(self, reason: str, retryable: bool = True):
        super().__init__(reason)
        self.retryable = retryable


class Sink(Protocol):
    """Deliver messages to one chat platform."""

    name: str

    def post(self, target: dict, message: Message) -> str:
        """Send a new message; returns a reference that update() accepts."""

    def update(self, target: dict, ref: str, message: Message) -> str:
        """Replace a message sent earlier (or send a new one where the platform can't edit)."""


def get_sink(name: str) -> Sink:
    """The sink called `name`, configured from the process runtime."""
    from core import runtime

    rt = runtime.get()
    if name == "console":
        from bots.sinks.console import ConsoleSink
        return ConsoleSink(rt.redis)
    if name == "slack":
        from bots.slack.sink import SlackSink
        return SlackSink(rt.settings)
    if name == "dingtalk":
        from bots.dingtalk.sink import DingTalkSink
        return DingTalkSink(rt.redis, rt.settings)
    raise SinkError(f"no sink {name!r}; known: console, slack, dingtalk", retryable=False)
