"""Typed catalog fields that shape a service's pods: configuration, probes, lifecycle, resources, autoscaling.

Defaults are the values Dockyard rendered before these fields existed, so a
catalog that names none of them gets the same manifests. Pure: no I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# '1C2G' = 1 core and 2 GiB; '0.5C512M' = half a core and 512 MiB. Defined here only.
RESOURCE_PRESET = re.compile(r"^(\d+(?:\.\d+)?)C(\d+(?:\.\d+)?)([GM])$")
DRAIN_SECONDS = 10  # ingress controllers and kube-proxy need this long to drop the endpoint
DEFAULT_JVM_OPTIONS = "-XX:MaxRAMPercentage=75"  # the heap follows the container's memory limit
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")  # what Kubernetes accepts as a variable name
OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")  # a ConfigMap's or Secret's name
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")  # a key in a ConfigMap or Secret
QUANTITY = re.compile(r"^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
# A literal under one of these names is a credential in git: the catalog only names Secrets.
SECRET_LOOKING = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY)$", re.IGNORECASE)
RESERVED_ENV = ("DOCKYARD_SERVICE", "DOCKYARD_ENV")


class Within(ValueError):
    """An error about one key inside the value being validated, so the loader can name that key's line."""

    def __init__(self, message: str, *within: str | int):
        super().__init__(message)
        self.within = within


def parse_preset(preset: str) -> tuple[int, int]:
    """'1C2G' → (1000 millicores, 2048 MiB); ValueError saying how to write one."""
    match = RESOURCE_PRESET.match(preset)
    hint = "is not like 1C1G, 1C2G or 0.5C512M (cores, C, then GiB G or MiB M)"
    if not match:
        raise ValueError(f"resource preset {preset!r} {hint}")
    try:
        cores, size = Decimal(match.group(1)), Decimal(match.group(2))
    except InvalidOperation:
        raise ValueError(f"resource preset {preset!r} {hint}") from None
    millicores = cores * 1000
    mib = size * 1024 if match.group(3) == "G" else size
    if millicores != millicores.to_integral_value() or millicores < 1:
        raise ValueError(f"resource preset {preset!r}: CPU must be a whole number of millicores (0.25C, 1.5C)")
    if mib != mib.to_integral_value() or mib < 1:
        raise ValueError(f"resource preset {preset!r}: memory must be a whole number of MiB (512M, 1.5G)")
    return int(millicores), int(mib)


class Strict(BaseModel):
    """Unknown keys are errors, so typos surface at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueRef(Strict):
    """An environment variable's value taken from a key of a ConfigMap or a Secret (by name; never its value)."""

    configmap: str | None = None
    secret: str | None = None
    key: str

    @model_validator(mode="after")
    def _one_source(self) -> "ValueRef":
        if (self.configmap is None) == (self.secret is None):
            raise ValueError("name exactly one of configmap: or secret:, with key:")
        name = self.configmap or self.secret or ""
        if not OBJECT_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid ConfigMap or Secret name")
        if not DATA_KEY.match(self.key):
            raise ValueError(f"key {self.key!r} may only hold letters, digits, '-', '_' and '.'")
        return self

    @property
    def source(self) -> str:
        """'configmap app-config:db_url' or 'secret app-db:password'."""
        return f"configmap {self.configmap}:{self.key}" if self.configmap else f"secret {self.secret}:{self.key}"


class FileRef(Strict):
    """A file mounted read-only from one key of a ConfigMap (a config-center style application.yml)."""

    configmap: str
    key: str

    @field_validator("configmap")
    @classmethod
    def _name(cls, value: str) -> str:
        if not OBJECT_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid ConfigMap name")
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not DATA_KEY.match(value):
            raise ValueError(f"key {value!r} may only hold letters, digits, '-', '_' and '.'")
        return value


class Config(Strict):
    """Environment variables (literal text or a reference) and files, by variable name and by path."""

    env: dict[str, str | ValueRef] = {}
    files: dict[str, FileRef] = {}

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        for name, item in value.items():
            if not isinstance(name, str) or not ENV_NAME.match(name):
                raise Within(f"{name!r} is not a valid environment variable name", str(name))
            if name in RESERVED_ENV:
                raise Within(f"{name} is set by Dockyard; choose another name", name)
            if isinstance(item, dict):
                try:
                    ValueRef.model_validate(item)
                except ValidationError as exc:
                    reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                    raise Within(f"{name}: {reason}", name) from None
            elif not isinstance(item, (str, ValueRef)):
                raise Within(f"{name}: {item!r} is not text; quote it ({name}: \"{item}\") so the container "
                             f"gets exactly what you wrote", name)
            if isinstance(item, str) and SECRET_LOOKING.search(name):
                raise Within(f"{name} looks like a credential and would sit in git as a literal: keep it in a "
                             f"Secret and name it here ({name}: {{secret: <name>, key: <key>}})", name)
        return value

    @field_validator("files")
    @classmethod
    def _paths(cls, value: dict[str, FileRef]) -> dict[str, FileRef]:
        for path in value:
            if not path.startswith("/") or path.endswith("/") or "/../" in f"{path}/" or "//" in path:
                raise Within(f"file path {path!r} must be an absolute file path, like /app/config/application.yml",
                             path)
            inside = [other for other in value if other.startswith(path + "/")]
            if inside:
                raise Within(f"file {inside[0]} would sit inside the file {path}: mount them at separate paths",
                             inside[0])
        return value

    def merged(self, override: "Config | None") -> "Config":
        """This configuration with an environment's on top (variables by name, files by path)."""
        if override is None:
            return self
        return Config(env={**self.env, **override.env}, files={**self.files, **override.files})

    @property
    def configmaps(self) -> list[tuple[str, str]]:
        """(ConfigMap, key) pairs this configuration reads, sorted, each once."""
        pairs = {(ref.configmap, ref.key) for ref in self.env.values() if isinstance(ref, ValueRef) and ref.configmap}
        pairs |= {(ref.configmap, ref.key) for ref in self.files.values()}
        return sorted(pairs)  # type: ignore[arg-type]


class Probe(Strict):
    """One probe; a field left out keeps Dockyard's default for it."""

    path: str | None = None  # HTTP GET on this path (default: health_path for http services, TCP for rpc)
    port: int | None = Field(None, ge=1, le=65535)  # default: the service's port
    initial_delay: int | None = Field(None, ge=0, le=3600)
    period: int | None = Field(None, ge=1, le=300)
    timeout: int | None = Field(None, ge=1, le=300)
    threshold: int | None = Field(None, ge=1, le=1000)  # failures in a row before it counts

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"probe path {value!r} must start with /")
        return value


class Probes(Strict):
    """Readiness, liveness and startup probes; `startup: false` turns the JVM services' startup probe off."""

    readiness: Probe = Probe()
    liveness: Probe = Probe()
    startup: Probe | Literal[False] | None = None  # None: JVM services get one (5 minutes to start)


class Lifecycle(Strict):
    """What runs before the container is stopped (deregister, drain), and how long it may take in all."""

    pre_stop: str = f"sleep {DRAIN_SECONDS}"  # run with sh -c
    termination_grace: int = Field(DRAIN_SECONDS + 30, ge=1, le=3600)  # seconds from preStop to SIGKILL

    @model_validator(mode="after")
    def _fits(self) -> "Lifecycle":
        slept = sum(int(n) for n in re.findall(r"\bsleep\s+(\d+)\b", self.pre_stop))
        if slept >= self.termination_grace:
            raise Within(f"pre_stop sleeps {slept}s but termination_grace is {self.termination_grace}s: the pod "
                         f"would be killed before it stops cleanly; raise termination_grace above {slept}",
                         "termination_grace")
        if not self.pre_stop.strip():
            raise Within("pre_stop is empty; leave it out for the default drain", "pre_stop")
        return self


class Metric(Strict):
    """A custom metric the HPA keeps at `target` per pod: replicas = sum of the metric ÷ target."""

    type: Literal["pods", "external"] = "pods"  # pods: each pod's own series; external: one series outside
    name: str
    target: str  # the average value per pod, a Kubernetes quantity: 100, 500m, 2k
    selector: dict[str, str] = {}  # the metric's labels

    @field_validator("target", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> object:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not QUANTITY.match(text):
            raise ValueError(f"target {value!r} is not a quantity like 100, 500m or 2k")
        return text

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:./-]{0,252}", value):
            raise ValueError(f"metric name {value!r} is not a metric name like http_requests_per_second")
        return value


class Autoscale(Strict):
    """An autoscaling/v2 HPA on the stable Deployment, applied with every deploy."""

    min: int = Field(ge=1, le=200)
    max: int = Field(ge=1, le=200)
    cpu: int | None = Field(None, ge=1, le=100)  # average CPU utilisation %; 80 when no metric is named
    metrics: list[Metric] = []

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscale":
        if self.min > self.max:
            raise Within(f"min {self.min} is above max {self.max}", "min")
        return self

    @property
    def cpu_target(self) -> int | None:
        return self.cpu if self.cpu is not None or self.metrics else 80

    @staticmethod
    def asked_in_chat(low: int, high: int, cpu: int | None, catalog: "Autoscale | None") -> "Autoscale":
        """What /autoscale <low>-<high> [cpu=N%] applies: over the catalog's metrics, its CPU target unless asked."""
        if cpu is None:
            cpu = catalog.cpu_target if catalog else 80
        return Autoscale(min=low, max=high, cpu=cpu, metrics=catalog.metrics if catalog else [])

    def goals(self) -> str:
        """'60% CPU' or '60% CPU, pods http_requests 100/pod'."""
        goals = [f"{self.cpu_target}% CPU"] if self.cpu_target else []
        return ", ".join(goals + [f"{m.type} {m.name} {m.target}/pod" for m in self.metrics])

    def describe(self) -> str:
        """'2–10 at 60% CPU'."""
        return f"{self.min}–{self.max} at {self.goals()}"
