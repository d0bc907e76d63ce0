"""Typed models of the rules YAML: catalog, routing and policy."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from bots.sinks import registry

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LANGUAGES = ("java-maven", "java-gradle", "go", "python", "node", "php", "static")
ENVIRONMENTS = ("test", "prod")
RESOURCE_PRESET = re.compile(r"^(\d+(?:\.\d+)?)C(\d+)G$")


class Located(ValueError):
    """A cross-reference error that knows which key it is about (for the line number)."""

    def __init__(self, message: str, *loc: str | int):
        super().__init__(message)
        self.loc = loc


class Strict(BaseModel):
    """Base for rule models: unknown keys are errors, so typos surface at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(Strict):
    """One environment a service runs in."""

    namespace: str
    replicas: int = Field(2, ge=0, le=200)
    resources: str = "1C1G"
    approval: Literal["none", "required"] = "none"
    node_class: str = "general"
    min_ready: int = Field(1, ge=0)
    progress_deadline: int = Field(300, ge=5, le=3600)  # seconds without rollout progress before rollback

    @field_validator("resources")
    @classmethod
    def _preset(cls, value: str) -> str:
        if not RESOURCE_PRESET.match(value):
            raise ValueError(f"resource preset {value!r} is not like 1C1G or 0.5C2G (cores C, GiB G)")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", value):
            raise ValueError(f"namespace {value!r} is not a valid Kubernetes namespace name")
        return value


class Build(Strict):
    """Overrides of the language template (the repository's own Dockerfile wins over all of it)."""

    command: str | None = None  # replaces the template's build step
    artifact: str | None = None  # what the runtime stage copies from the build stage
    start: str | None = None  # the container's command
    dockerfile: str = "Dockerfile"  # where the repository's own Dockerfile would be
    context: str = "."  # sub-directory of the repository to build (monorepos: api/, worker/)


class Service(Strict):
    """One deployable service in the catalog."""

    team: str
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    git: str
    port: int = Field(8080, ge=1, le=65535)
    app_type: Literal["http", "rpc"] = "http"
    health_path: str = "/healthz"
    branches: list[str] = ["main"]
    auto_deploy: Literal["test", "none"] = "none"
    environments: dict[str, Environment]
    channel: str | None = None  # routing channel name; the team's channel when unset
    build: Build = Build()
    router: Literal["nginx", "istio", "gateway", "replicas"] = "replicas"  # how canary traffic is split
    host: str | None = None  # public host name for the nginx Ingress / Istio VirtualService
    gateway: str = "dockyard"  # Gateway API: the Gateway the HTTPRoute attaches to

    @field_validator("environments")
    @classmethod
    def _known_envs(cls, value: dict[str, Environment]) -> dict[str, Environment]:
        unknown = set(value) - set(ENVIRONMENTS)
        if unknown:
            raise ValueError(f"unknown environment {sorted(unknown)[0]!r}; use one of {', '.join(ENVIRONMENTS)}")
        if not value:
            raise ValueError("a service needs at least one environment")
        return value


class NodeClass(Strict):
    """A pool of nodes (label dockyard.dev/node-class) and how far it overcommits."""

    overcommit: float = Field(1.0, gt=0, le=1.0)  # requests = limits × overcommit


class Team(Strict):
    """A team owns services and has a default channel."""

    channel: str


class Catalog(Strict):
    """catalog.yaml: teams and the services they own."""

    registry: str = "registry.local"  # images are <registry>/<git group>/<service>:<tag>
    node_classes: dict[str, NodeClass] = {"general": NodeClass()}
    teams: dict[str, Team]
    services: dict[str, Service]

    @model_validator(mode="after")
    def _references(self) -> "Catalog":
        for name, svc in self.services.items():
            for env_name, env in svc.environments.items():
                if env.node_class not in self.node_classes:
                    raise Located(f"node class {env.node_class!r} is not under node_classes:",
                                  "services", name, "environments", env_name, "node_class")
            if not SERVICE_NAME.match(name):
                raise Located(f"service name {name!r} must be lowercase letters, digits and '-'", "services", name)
            if svc.team not in self.teams:
                raise Located(f"service {name!r} names team {svc.team!r}, which is not under teams:",
                              "services", name, "team")
        return self


class QuietHours(Strict):
    """Hours (UTC, may wrap midnight) when only some severities reach a channel; the rest wait."""

    start: str
    end: str
    let_through: list[str] = ["critical"]

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time like 22:00")
        return value


class Channel(BaseModel):
    """Where a message can be delivered: a sink plus its address, which the sink's own model checks."""

    model_config = ConfigDict(extra="allow", frozen=True)
    sink: str
    quiet_hours: QuietHours | None = None
    _target: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _address(self) -> "Channel":
        self._target = {"sink": self.sink, **registry.check_address(self.sink, dict(self.model_extra or {}))}
        return self

    @property
    def address(self) -> dict:
        """The sink's address fields, as a delivery target."""
        return dict(self._target)


class Route(Strict):
    """Send events whose labels match every key here to these channels."""

    match: dict[str, str] = {}
    to: list[str]
    stop: bool = True


class Routing(Strict):
    """routing.yaml: named channels and label-matching routes, first match wins."""

    channels: dict[str, Channel]
    routes: list[Route] = []
    default: list[str]

    @model_validator(mode="after")
    def _references(self) -> "Routing":
        names = [(n, ("routes", i, "to")) for i, r in enumerate(self.routes) for n in r.to]
        names += [(n, ("default",)) for n in self.default]
        for name, loc in names:
            if name not in self.channels:
                raise Located(f"route names channel {name!r}, which is not under channels:", *loc)
        return self


class Grant(Strict):
    """A role over some services (by name or team, '*' for all) in some environments."""

    role: str
    services: list[str] = ["*"]
    teams: list[str] = []
    envs: list[str] = ["*"]


class User(Strict):
    """A person, their chat identities and what they may do."""

    slack: str | None = None
    dingtalk: str | None = None
    wecom: str | None = None  # WeCom userid (FromUserName)
    feishu: str | None = None  # Feishu open_id (ou_…) or the tenant's user_id
    grants: list[Grant] = []


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class FreezeWindow(Strict):
    """A recurring time when changes to some environments are refused (weekends, nights, holidays).

    A window matches when every condition it names holds, in the configured time zone:
    a weekday it lists, a date it lists, and a time between `from` and `to` (which may wrap midnight).
    """

    envs: list[str]
    reason: str
    weekdays: list[Literal[WEEKDAYS]] = []  # type: ignore[valid-type]
    dates: list[str] = []  # YYYY-MM-DD, e.g. a holiday calendar
    start: str | None = Field(None, alias="from")  # HH:MM
    end: str | None = Field(None, alias="to")

    @field_validator("dates")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        for day in value:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(f"date {day!r} is not YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _window(self) -> "FreezeWindow":
        for value in (self.start, self.end):
            if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
                raise ValueError(f"time {value!r} is not HH:MM")
        if (self.start is None) != (self.end is None):
            raise ValueError("give both `from` and `to`, or neither")
        if not (self.weekdays or self.dates or self.start):
            raise ValueError("a freeze window needs weekdays, dates or from/to")
        return self


class Policy(Strict):
    """policy.yaml: roles (sets of actions), users and their grants, and recurring freeze windows."""

    roles: dict[str, list[str]]
    anonymous: list[str] = ["viewer"]
    approvers: list[str] = []  # roles whose holders may approve others' prod deploys
    users: dict[str, User]
    freezes: list[FreezeWindow] = []

    @model_validator(mode="after")
    def _references(self) -> "Policy":
        for name, user in self.users.items():
            for index, grant in enumerate(user.grants):
                if grant.role not in self.roles:
                    raise Located(f"user {name!r} is granted role {grant.role!r}, which is not under roles:",
                                  "users", name, "grants", index, "role")
        for key in ("anonymous", "approvers"):
            for role in getattr(self, key):
                if role not in self.roles:
                    raise Located(f"role {role!r} is not under roles:", key)
        return self


class Rules(Strict):
    """Everything under DOCKYARD_RULES_DIR, loaded and cross-checked."""

    catalog: Catalog
    routing: Routing
    policy: Policy

    def service(self, name: str) -> Service | None:
        return self.catalog.services.get(name)

    def image_repository(self, name: str) -> str:
        """Where a service's images live: <registry>/<git group>/<service>."""
        group = self.catalog.services[name].git.split("/")[0]
        return f"{self.catalog.registry}/{group}/{name}"
