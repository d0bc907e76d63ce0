"""Sink name → the folder that implements it. Adding a chat platform is one folder and one line here.

Each folder holds `sink.py` with a class `Sink` (post, update, edits(target),
text_budget, from_runtime) and `address.py` with a pydantic `Address`: the fields
a routing channel names for it, validated when the rules load. `edits(target)`
says whether update() changes a message in place at that destination (an app's
card can be edited, a group robot's message cannot); the contract is in
bots/sinks/base.py. Imported lazily, so loading the rules never loads a
platform's client.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import ValidationError

SINKS: dict[str, str] = {
    "console": "bots.console",
    "slack": "bots.slack",
    "dingtalk": "bots.dingtalk",
    "wecom": "bots.wecom",
    "feishu": "bots.feishu",
}


def _known() -> str:
    return ", ".join(SINKS)


def check_address(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The channel's address for sink `name`, validated by the sink's own model; ValueError says what is wrong."""
    if name not in SINKS:
        raise ValueError(f"unknown sink {name!r}; known: {_known()}")
    model = importlib.import_module(f"{SINKS[name]}.address").Address
    try:
        return model(**fields).model_dump(exclude_none=True)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise ValueError(f"a {name} channel: {where + ': ' if where else ''}"
                         f"{problem['msg'].removeprefix('Value error, ')}") from None


DEFAULT_TEXT_BUDGET = 4_000  # for a sink that does not say: what every chat platform carries in one message


def text_budget(name: str | None) -> int:
    """Bytes of lines one message to sink `name` carries whole (its Sink.text_budget)."""
    if name not in SINKS:
        return DEFAULT_TEXT_BUDGET
    sink = importlib.import_module(f"{SINKS[name]}.sink").Sink
    return int(getattr(sink, "text_budget", DEFAULT_TEXT_BUDGET))


def get_sink(name: str):  # -> bots.sinks.base.Sink
    """The sink called `name`, configured from the process runtime."""
    from bots.sinks.base import SinkError  # rules import this module: keep its own imports light
    from core import runtime

    if name not in SINKS:
        raise SinkError(f"no sink {name!r}; known: {_known()}", retryable=False)
    return importlib.import_module(f"{SINKS[name]}.sink").Sink.from_runtime(runtime.get())
