"""Typed models of the rules YAML: the catalog here, routing and policy in their own modules, and Rules, all three."""

from __future__ import annotations

import re
import string
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rules.policy_model import Policy
from rules.routing_model import Routing
from rules.strict import Located, Strict
from rules.clusters_model import DEFAULT_CLUSTER, Cluster, Placed, split
from rules.analysis import Analysis, CanaryPlan
from rules import cronjob
from rules.workload import DEFAULT_JVM_OPTIONS, Autoscale, Config, Lifecycle, Probes, parse_preset
from rules.per_environment import HOST_ROUTERS, check_host, filled, host_claims, pattern_host, raw_stages

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LANGUAGES = ("java-maven", "java-gradle", "go", "python", "node", "php", "static")
JVM_LANGUAGES = ("java-maven", "java-gradle")
ENVIRONMENTS = ("test", "prod")  # the catalog's environments when it names none
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
class Environment(Placed):
    """One environment a service runs in (its `clusters:`, when set, replace the catalog environment's)."""

    namespace: str
    # The public host its router routes by. The catalog fills it in when unset: the service's `host:` for
    # the service's last environment, `host_pattern` for any environment but the catalog's last (prod).
    host: str | None = None
    replicas: int = Field(2, ge=0, le=200)
    resources: str = "1C1G"
    approval: Literal["none", "required"] = "none"  # the catalog's environments: may already require it
    node_class: str = "general"
    min_ready: int = Field(1, ge=0)
    progress_deadline: int = Field(300, ge=5, le=3600)  # seconds without rollout progress before rollback
    config: Config | None = None  # on top of the service's config: variables by name, files by path
    autoscale: Autoscale | None = None  # an HPA applied with every deploy

    @field_validator("resources")
    @classmethod
    def _preset(cls, value: str) -> str:
        parse_preset(value)
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", value):
            raise ValueError(f"namespace {value!r} is not a valid Kubernetes namespace name")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else check_host(value)



class Build(Strict):
    """Overrides of the language template (the repository's own Dockerfile wins over all of it)."""

    command: str | None = None  # replaces the template's build step
    artifact: str | None = None  # what the runtime stage copies from the build stage
    start: str | None = None  # the container's command
    dockerfile: str = "Dockerfile"  # where the repository's own Dockerfile would be
    context: str = "."  # sub-directory of the repository to build (monorepos: api/, worker/)
    jvm_options: str | None = None  # java-maven/java-gradle: JAVA_TOOL_OPTIONS; default -XX:MaxRAMPercentage=75

    @field_validator("jvm_options")
    @classmethod
    def _jvm_options(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not value.isprintable() or '"' in value or "\\" in value):
            raise ValueError("jvm_options must be one line of flags without quotes or backslashes, "
                             "like -XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError")
        return value


class Service(Strict):
    """One deployable service in the catalog."""

    analysis: Analysis | None = None  # Prometheus checks before each canary step (rules/analysis.py)
    canary_plan: CanaryPlan | None = None

    team: str
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    git: str
    port: int = Field(8080, ge=1, le=65535)
    app_type: Literal["http", "rpc"] = "http"
    health_path: str = "/healthz"
    branches: list[str] = ["main"]
    auto_deploy: str = "none"  # the environment each build rolls out to (the service's first), or none
    environments: dict[str, Environment]
    channel: str | None = None  # routing channel name; the team's channel when unset
    # Kubernetes events the watcher keeps for /events: warning (Warning only), or all (Normal ones too:
    # Pulled, Started, ScalingReplicaSet, ...). Warnings alone decide incidents either way.
    events: Literal["warning", "all"] = "warning"
    build: Build = Build()
    router: Literal["nginx", "istio", "gateway", "replicas"] = "replicas"  # how canary traffic is split
    host: str | None = None  # the public host of the service's last environment (prod); see Environment.host
    gateway: str = "dockyard"  # Gateway API: the Gateway the HTTPRoute attaches to
    config: Config = Config()  # every environment's variables and files (an environment's config: wins)
    probes: Probes = Probes()
    lifecycle: Lifecycle = Lifecycle()
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"  # the stable Service
    dns_options: dict[str, str | int | None] = {}  # pod dnsConfig options, e.g. {ndots: 2}
    zone_spread: Literal["none", "preferred", "required"] = "none"  # across topology.kubernetes.io/zone
    # kind: cronjob runs the image on `schedule` (a batch/v1 CronJob) instead of serving (rules/cronjob.py)
    kind: Literal["deployment", "cronjob"] = "deployment"
    schedule: str | None = None  # cron, in UTC: "30 2 * * *", "*/15 * * * *", "@hourly"
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"  # a run still going when the next is due
    starting_deadline_seconds: int | None = Field(None, ge=10, le=86400)  # a run this late is skipped
    successful_jobs_history_limit: int = Field(3, ge=0, le=100)  # finished runs kept (for /status and /logs)
    failed_jobs_history_limit: int = Field(1, ge=0, le=100)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else cronjob.check_schedule(value)

    @model_validator(mode="after")
    def _kind_fields(self) -> "Service":
        cronjob.check_kind(self.kind, self.schedule, set(self.model_fields_set))
        return self

    @model_validator(mode="after")
    def _jvm_only(self) -> "Service":
        if self.build.jvm_options is not None and self.language not in JVM_LANGUAGES:
            raise ValueError(f"build.jvm_options is for java-maven and java-gradle services, not {self.language}")
        return self

    def config_in(self, env_name: str) -> Config:
        """The configuration one environment runs with: the service's, then the environment's on top."""
        return self.config.merged(self.environments[env_name].config)

    @property
    def jvm_options(self) -> str | None:
        """The flags Java starts with (JVM languages only)."""
        if self.language not in JVM_LANGUAGES:
            return None
        return self.build.jvm_options or DEFAULT_JVM_OPTIONS

    @field_validator("environments")
    @classmethod
    def _known_envs(cls, value: dict[str, Environment]) -> dict[str, Environment]:
        if not value:
            raise ValueError("a service needs at least one environment")  # which ones: the catalog checks
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else check_host(value)


class NodeClass(Strict):
    """A pool of nodes (label dockyard.dev/node-class) and how far it overcommits."""

    overcommit: float = Field(1.0, gt=0, le=1.0)  # CPU requests = CPU limits × overcommit
    # Memory requests = limits unless a class says otherwise: memory below its limit invites eviction and OOM kills.
    memory_overcommit: float = Field(1.0, gt=0, le=1.0)


class Team(Strict):
    """A team owns services and has a default channel."""

    channel: str


class Stage(Placed):
    """One of the catalog's environments, in promotion order: its name, whether changes there need approval,
    and the clusters it runs in."""

    name: str
    approval: Literal["none", "required"] = "none"
    on_failure: Literal["rollback", "hold"] = "rollback"  # the other clusters, when one cluster's rollout fails

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENV_NAME.match(value):
            raise ValueError(f"environment name {value!r} must be lowercase letters, digits and '-' "
                             f"(at most 20, starting with a letter), like staging")
        return value


class Catalog(Strict):
    """catalog.yaml: teams and the services they own."""

    registry: str = "registry.local"  # images are <registry>/<git group>/<service>:<tag>
    node_classes: dict[str, NodeClass] = {"general": NodeClass()}
    teams: dict[str, Team]
    services: dict[str, Service]
    # Promotion order: each environment takes only images that passed the one before it; the last is production.
    environments: list[Stage] = [Stage(name=name) for name in ENVIRONMENTS]
    host_pattern: str | None = None  # host of every environment but the last, e.g. "{service}.{env}.example.com"
    # Named clusters (rules/clusters_model.py); none: one cluster, `default`, through KUBECONFIG.
    clusters: dict[str, Cluster] = {}
    build_cluster: str | None = None  # where image builds run (the only cluster when there is one)

    @model_validator(mode="before")
    @classmethod
    def _per_environment(cls, data: Any) -> Any:
        """Write each service environment's effective approval and host in; refuse a host claimed twice."""
        if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
            return data
        stages = raw_stages(data.get("environments", list(ENVIRONMENTS)))
        if stages is None:
            return data  # field validation says what is wrong
        claimed: dict[str, tuple[str, str]] = {}
        services = {}
        for name, spec in data["services"].items():
            if not isinstance(spec, dict) or not isinstance(spec.get("environments"), dict):
                services[name] = spec
                continue
            hosts = {}
            for env, host, where in host_claims(name, spec, stages, data.get("host_pattern")):
                first = claimed.setdefault(host.lower(), (name, env))
                if first != (name, env):
                    raise Located(f"host {host!r} is claimed twice: by {first[0]} in {first[1]} and by {name} "
                                  f"in {env}; every environment needs a host of its own", *where)
                hosts[env] = host
            services[name] = filled(name, spec, stages, hosts)
        return {**data, "services": services}

    @field_validator("environments", mode="before")
    @classmethod
    def _names_alone(cls, value: Any) -> Any:
        """`- staging` is short for `- {name: staging}`."""
        return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    @field_validator("environments")
    @classmethod
    def _order(cls, value: list[Stage]) -> list[Stage]:
        names = [stage.name for stage in value]
        if not names:
            raise ValueError("name at least one environment, in promotion order, like [test, prod]")
        twice = [n for i, n in enumerate(names) if n in names[:i]]
        if twice:
            raise ValueError(f"environment {twice[0]!r} is listed twice; list each once, in promotion order")
        return value

    @field_validator("host_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        if not fields <= {"service", "env"} or pattern_host(value, "web", "test") is None:
            raise ValueError(f"host_pattern {value!r} may use only {{service}} and {{env}}, "
                             f"like \"{{service}}.{{env}}.example.com\"")
        check_host(value.format(service="web", env="test"))
        return value

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

    @model_validator(mode="after")
    def _environments_known(self) -> "Catalog":
        names = self.environment_names
        for name, svc in self.services.items():
            for env_name in svc.environments:
                if env_name not in names:
                    raise Located(f"unknown environment {env_name!r}: the catalog's environments: are "
                                  f"{', '.join(names)} (add it there, in promotion order)",
                                  "services", name, "environments", env_name)
            order = self.order_of(name)
            if svc.auto_deploy != "none" and svc.auto_deploy != order[0]:
                raise Located(f"auto_deploy: {svc.auto_deploy} must be none or {order[0]}, the first environment "
                              f"{name} has: an environment after it takes only images that passed the one "
                              f"before", "services", name, "auto_deploy")
            hosted = [(e, svc.environments[e].host) for e in order if svc.environments[e].host]
            if svc.router in HOST_ROUTERS and hosted:
                for env_name in order:
                    if svc.environments[env_name].host is None:
                        where = (f"host: on the service (its last environment, {env_name}, takes it) or under "
                                 f"environments.{env_name}" if env_name == order[-1] else
                                 f"host: under environments.{env_name}, or host_pattern: at the top of the catalog")
                        raise Located(f"{name} has no host in {env_name} but routes {hosted[0][1]} in "
                                      f"{hosted[0][0]}: every environment needs its own; set {where}",
                                      "services", name, "environments", env_name)
        return self

    @model_validator(mode="after")
    def _clusters_known(self) -> "Catalog":
        known = self.cluster_names
        for stage in self.environments:
            for name in stage.clusters or {}:
                if name not in known:
                    raise Located(f"environment {stage.name} names cluster {name!r}, which is not under "
                                  f"clusters: ({', '.join(known)})", "environments")
            if self.clusters and len(self.clusters) > 1 and not stage.clusters and any(
                    stage.name in svc.environments and not svc.environments[stage.name].clusters
                    for svc in self.services.values()):
                raise Located(f"environment {stage.name} names no cluster and the catalog has several: add "
                              f"`cluster: <name>` (or `clusters: {{a: 3, b: 2}}`) to it", "environments")
        for service, svc in self.services.items():
            for env_name, env in svc.environments.items():
                for name in env.clusters or {}:
                    if name not in known:
                        raise Located(f"cluster {name!r} is not under clusters: ({', '.join(known)})",
                                      "services", service, "environments", env_name, "clusters")
        if self.build_cluster is not None and self.build_cluster not in known:
            raise Located(f"build_cluster {self.build_cluster!r} is not under clusters: ({', '.join(known)})",
                          "build_cluster")
        if self.build_cluster is None and len(self.clusters) > 1:
            raise Located("the catalog has several clusters: say which runs image builds with "
                          "`build_cluster: <name>`", "clusters")
        return self

    @property
    def cluster_names(self) -> list[str]:
        """The clusters Dockyard reaches: the catalog's, or `default` (KUBECONFIG) when it names none."""
        return list(self.clusters) or [DEFAULT_CLUSTER]

    def weights(self, service: str, env: str) -> dict[str, int]:
        """One service's environment's clusters and weights (its own `clusters:` first, then the catalog's)."""
        stage = next(s for s in self.environments if s.name == env)
        return self.services[service].environments[env].clusters or stage.clusters or {self.cluster_names[0]: 1}

    def placement(self, service: str, env: str) -> dict[str, int]:
        """Replicas per cluster for one service's environment, split by its weights."""
        return split(self.services[service].environments[env].replicas, self.weights(service, env))

    def on_failure(self, env: str) -> str:
        """What the other clusters of a multi-cluster environment do when one cluster's rollout fails."""
        return next(s.on_failure for s in self.environments if s.name == env)

    @property
    def builds_in(self) -> str:
        return self.build_cluster or self.cluster_names[0]

    @property
    def environment_names(self) -> list[str]:
        """The catalog's environments in promotion order (the last is production)."""
        return [stage.name for stage in self.environments]

    def order_of(self, service: str) -> list[str]:
        """A service's environments in the catalog's promotion order."""
        envs = self.services[service].environments
        return [name for name in self.environment_names if name in envs]

    def previous_environment(self, service: str, env: str) -> str | None:
        """The environment an image must have passed before `env` takes it: the one before, among the service's."""
        order = self.order_of(service)
        return order[order.index(env) - 1] if env in order and order.index(env) > 0 else None


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
