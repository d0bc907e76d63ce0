"""The two bases every rules model shares: strict models, and errors that know their key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Located(ValueError):
    """A cross-reference error that knows which key it is about (for the line number)."""

    def __init__(self, message: str, *loc: str | int):
        super().__init__(message)
        self.loc = loc


class Strict(BaseModel):
    """Base for rule models: unknown keys are errors, so typos surface at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)
