"""Typed chat commands: what the grammar produces and the pipeline dispatches."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Literal

USAGE: dict[str, str] = {
    "deploy": "/deploy <svc> [<tag>] [to <env>] [rolling | canary <N>% | preview] [--break-glass <reason>]  ·  "
              "/deploy <svc> promote | abort [in <env>]",
    "rollback": "/rollback <svc> [to <revision>] [in <env>]",
    "scale": "/scale <svc> <n> [in <env>]",
    "autoscale": "/autoscale <svc> <min>-<max> [cpu=<pct>%] [in <env>]",
    "status": "/status <svc> [in <env>]",
    "history": "/history <svc> [in <env>]",
    "logs": "/logs <svc> [--tail N] [in <env>]",
    "restart": "/restart <svc> [in <env>]",
    "events": "/events <svc> [--since 1h]",
    "build": "/build <svc> [<ref>]",
    "approve": "/approve <id>",
    "reject": "/reject <id> [reason]",
    "silence": "/silence <alertname|fingerprint> <duration> [comment]  ·  /silence list  ·  /silence expire <id>",
    "freeze": "/freeze <env> until <time> [reason]",
    "unfreeze": "/unfreeze <env>",
    "help": "/help [<command>]",
}

SUMMARY: dict[str, str] = {
    "deploy": "roll out an image: rolling, canary at N% (then promote or abort), or preview",
    "rollback": "go back to the previous or a named revision",
    "scale": "set the number of replicas",
    "autoscale": "keep replicas between min and max by CPU (HPA)",
    "status": "replicas, images, canary weight and recent warnings",
    "history": "revisions with image, who and when",
    "logs": "last lines of the service's pods",
    "restart": "restart every pod, one at a time",
    "events": "Kubernetes warnings kept for the service",
    "build": "build an image from a git ref",
    "approve": "approve someone else's pending deploy",
    "reject": "reject a pending deploy",
    "silence": "silence an alert in Alertmanager, list or expire silences",
    "freeze": "block deploys to an environment until a time",
    "unfreeze": "lift a freeze",
    "help": "this list, or one command's usage",
}


@dataclass(frozen=True)
class Command:
    """Base of every parsed command; `verb` is also the action policy checks."""

    verb: ClassVar[str] = ""

    @property
    def action(self) -> str:
        return self.verb

    @property
    def target(self) -> str | None:
        """The service (or environment, or id) the command acts on, for audit."""
        for name in ("service", "env", "approval_id", "silence_id", "matcher", "topic"):
            value = getattr(self, name, None)
            if value:
                return str(value)
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an RQ job: the class name plus its fields."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return {"type": type(self).__name__, **data}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "Command":
        """Inverse of to_dict."""
        cls = COMMAND_TYPES[data["type"]]
        kwargs = {f.name: data.get(f.name) for f in fields(cls)}
        for f in fields(cls):
            if f.type in ("datetime", "datetime | None") and isinstance(kwargs[f.name], str):
                kwargs[f.name] = datetime.fromisoformat(kwargs[f.name])
        return cls(**kwargs)


@dataclass(frozen=True)
class Deploy(Command):
    verb: ClassVar[str] = "deploy"
    service: str
    tag: str | None = None
    env: str = "test"
    strategy: Literal["rolling", "canary", "preview"] = "rolling"
    weight: int | None = None
    break_glass: str | None = None  # reason to deploy to prod an image that never ran in test


@dataclass(frozen=True)
class DeployControl(Command):
    """`/deploy <svc> promote | abort`: finish or cancel a live canary."""

    verb: ClassVar[str] = "deploy"
    service: str
    step: Literal["promote", "abort"]
    env: str = "test"


@dataclass(frozen=True)
class Rollback(Command):
    verb: ClassVar[str] = "rollback"
    service: str
    revision: int | None = None
    env: str = "test"


@dataclass(frozen=True)
class Scale(Command):
    verb: ClassVar[str] = "scale"
    service: str
    replicas: int
    env: str = "test"


@dataclass(frozen=True)
class Autoscale(Command):
    verb: ClassVar[str] = "autoscale"
    service: str
    min_replicas: int
    max_replicas: int
    cpu_percent: int = 80
    env: str = "test"


@dataclass(frozen=True)
class Status(Command):
    verb: ClassVar[str] = "status"
    service: str
    env: str | None = None  # None: every environment


@dataclass(frozen=True)
class History(Command):
    verb: ClassVar[str] = "history"
    service: str
    env: str = "test"


@dataclass(frozen=True)
class Logs(Command):
    verb: ClassVar[str] = "logs"
    service: str
    tail: int = 100
    env: str = "test"


@dataclass(frozen=True)
class Restart(Command):
    verb: ClassVar[str] = "restart"
    service: str
    env: str = "test"


@dataclass(frozen=True)
class Events(Command):
    verb: ClassVar[str] = "events"
    service: str
    since_seconds: int = 3600


@dataclass(frozen=True)
class Build(Command):
    verb: ClassVar[str] = "build"
    service: str
    ref: str | None = None


@dataclass(frozen=True)
class Approve(Command):
    verb: ClassVar[str] = "approve"
    approval_id: str


@dataclass(frozen=True)
class Reject(Command):
    verb: ClassVar[str] = "reject"
    approval_id: str
    reason: str | None = None


@dataclass(frozen=True)
class Silence(Command):
    verb: ClassVar[str] = "silence"
    matcher: str
    duration_seconds: int
    comment: str | None = None


@dataclass(frozen=True)
class SilenceList(Command):
    verb: ClassVar[str] = "silence"


@dataclass(frozen=True)
class SilenceExpire(Command):
    verb: ClassVar[str] = "silence"
    silence_id: str


@dataclass(frozen=True)
class Freeze(Command):
    verb: ClassVar[str] = "freeze"
    env: str
    until: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Unfreeze(Command):
    verb: ClassVar[str] = "unfreeze"
    env: str


@dataclass(frozen=True)
class Help(Command):
    verb: ClassVar[str] = "help"
    topic: str | None = None


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (Deploy, DeployControl, Rollback, Scale, Autoscale, Status, History, Logs, Restart, Events,
                Build, Approve, Reject, Silence, SilenceList, SilenceExpire, Freeze, Unfreeze, Help)
}
