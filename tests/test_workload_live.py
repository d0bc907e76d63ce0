"""The catalog's configuration, probes, scheduling, resources and autoscaling on the real control plane,
driven through the chat pipeline and real RQ workers as Dockyard's own identity; the test looks as the admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from core import audit, runtime
from deploy import fetching, render
from deploy.kube import connect
from deploy.local.services import wait_until
from tests.kubehelp import wait_pods
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules

NS = "shop-test"
SECRET_VALUE = "s3cr3t-Value-never-shown"  # noqa: S105 - a test Secret's value, looked for everywhere
BASE = {"team": "storefront", "language": "node", "port": 3000, "router": "replicas"}
SERVICES = {
    "cfgl": {**BASE, "git": "shop/cfgl", "config": {
        "env": {"GREETING": "hello", "DB_URL": {"configmap": "cfgl-settings", "key": "db_url"},
                "DB_PASSWORD": {"secret": "cfgl-db", "key": "password"}},
        "files": {"/app/config/application.yml": {"configmap": "cfgl-settings", "key": "application.yml"}}},
        "environments": {"test": {"namespace": NS, "replicas": 1, "resources": "0.5C512M", "progress_deadline": 6}}},
    "cfgm": {**BASE, "git": "shop/cfgm", "config": {"env": {"DB_URL": {"configmap": "cfgm-nowhere", "key": "x"}}},
             "environments": {"test": {"namespace": NS, "replicas": 1, "resources": "0.5C1G",
                                       "progress_deadline": 6}}},
    "hpal": {**BASE, "git": "shop/hpal", "environments": {"test": {
        "namespace": NS, "replicas": 3, "resources": "0.5C1G", "progress_deadline": 6,
        "autoscale": {"min": 1, "max": 2, "cpu": 70}}}},
    "hpak": {**BASE, "git": "shop/hpak", "environments": {"test": {
        "namespace": NS, "replicas": 3, "resources": "0.5C1G", "progress_deadline": 6,
        "autoscale": {"min": 1, "max": 5}}}},
    "prbl": {**BASE, "git": "shop/prbl", "service_type": "NodePort", "dns_options": {"ndots": 2},
             "zone_spread": "preferred",
             "probes": {"readiness": {"path": "/ready", "timeout": 2, "threshold": 4},
                        "liveness": {"initial_delay": 90}, "startup": {"threshold": 40}},
             "lifecycle": {"pre_stop": "curl -s localhost:3000/deregister; sleep 15", "termination_grace": 50},
             "environments": {"test": {"namespace": NS, "replicas": 2, "resources": "1C2G", "progress_deadline": 6}}},
}


def _catalog(directory: Path, changes: dict[str, dict] | None = None) -> None:
    """The rollout tests' catalog plus these services, each entry updated with `changes`."""
    catalog = yaml.safe_load((directory / "catalog.yaml").read_text())
    for name, spec in SERVICES.items():
        catalog["services"][name] = json.loads(json.dumps(spec))
    for name, change in (changes or {}).items():
        catalog["services"][name]["environments"]["test"].update(change.pop("test", {}))
        catalog["services"][name].update(change)
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog))


class Live:
    """Chat as Dockyard over a catalog that a test may change between commands (as a new rules file would)."""

    def __init__(self, redis_url: str, directory: Path, kubeconfig: Path):
        self.redis_url, self.directory, self.kubeconfig = redis_url, directory, kubeconfig
        self.chat = self.reload()

    def reload(self, changes: dict[str, dict] | None = None) -> Chat:
        write_rules(self.directory)
        _catalog(self.directory, changes)
        self.chat = Chat(runtime.install(live_runtime(self.redis_url, self.directory, self.kubeconfig)))
        return self.chat

    def __call__(self, user: str, text: str) -> list[dict]:
        return self.chat(user, text)


@pytest.fixture
def live(redis, cluster, tmp_path):
    previous = runtime._current
    port = redis.connection_pool.connection_kwargs["port"]
    yield Live(f"redis://127.0.0.1:{port}/0", tmp_path, cluster.dockyard_kubeconfig)
    runtime._current = previous


@pytest.fixture(scope="module")
def k(cluster):
    """The test looks (and writes ConfigMaps and Secrets, as a team would) as the cluster admin."""
    return connect(cluster.admin_kubeconfig)


def _configmap(k, name: str, data: dict[str, str]) -> None:
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)
    try:
        k.core.create_namespaced_config_map(NS, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        k.core.replace_namespaced_config_map(name, NS, body)


def _replica_sets(k, name: str) -> list[client.V1ReplicaSet]:
    dep = fetching.read_deployment(k, NS, name)
    return [rs for rs in k.apps.list_namespaced_replica_set(NS, label_selector=f"app={name},track=stable").items
            if any(o.uid == dep.metadata.uid for o in rs.metadata.owner_references or [])]


def _checksum(k, name: str) -> str:
    return fetching.read_deployment(k, NS, name).spec.template.metadata.annotations[render.CONFIG_CHECKSUM]


def test_a_configmap_change_rolls_the_pods_and_status_shows_the_configuration(live, k):
    _configmap(k, "cfgl-settings", {"db_url": "postgres://db-a/shop", "application.yml": "server:\n  port: 3000\n"})
    first = live("alice", "/deploy cfgl v1")
    assert first[-1]["text"].startswith("✔ cfgl (test): rolling update to v1 — done"), first[-1]["text"]
    before = _checksum(k, "cfgl")
    assert len(_replica_sets(k, "cfgl")) == 1
    pod = fetching.read_deployment(k, NS, "cfgl").spec.template.spec
    env = {e.name: e for e in pod.containers[0].env}
    assert env["DB_URL"].value_from.config_map_key_ref.name == "cfgl-settings"
    assert env["DB_PASSWORD"].value_from.secret_key_ref.key == "password" and env["DB_PASSWORD"].value is None
    assert pod.containers[0].volume_mounts[0].mount_path == "/app/config/application.yml"

    again = live("alice", "/deploy cfgl v1")  # nothing changed: the same ReplicaSet
    assert again[-1]["text"].startswith("✔ cfgl (test): rolling update to v1 — done")
    assert len(_replica_sets(k, "cfgl")) == 1 and _checksum(k, "cfgl") == before

    _configmap(k, "cfgl-settings", {"db_url": "postgres://db-b/shop", "application.yml": "server:\n  port: 3000\n"})
    [config] = live("alice", "/config cfgl")
    assert "the configuration changed since the running pods started: /deploy cfgl v1 rolls them" in config["text"]
    live("alice", "/deploy cfgl v1")  # the same image: only the configuration changed
    after = _checksum(k, "cfgl")
    assert after != before and len(_replica_sets(k, "cfgl")) == 2  # a new ReplicaSet, so new pods
    wait_pods(k, NS, "cfgl", 1, lambda p: fetching.is_ready(p) and
              p.metadata.annotations.get(render.CONFIG_CHECKSUM) == after)
    [status] = live("alice", "/status cfgl")
    assert f"test: 1/1 ready, 1 updated, image registry.local/shop/cfgl:v1, config {after[:8]}" in status["text"]


def test_config_lists_keys_and_sources_and_never_a_secret_value(live, k, cluster):
    _configmap(k, "cfgl-settings", {"db_url": "postgres://db-c/shop", "application.yml": "a: 1\n"})
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="cfgl-db"), string_data={"password": SECRET_VALUE})
    try:
        k.core.create_namespaced_secret(NS, secret)
    except ApiException as exc:
        if exc.status != 409:
            raise
    live("alice", "/deploy cfgl v2")
    [reply] = live("bob", "/config cfgl")  # bob is a viewer of storefront's services
    text = reply["text"]
    assert "GREETING = hello  (literal)  [service]" in text
    assert "DB_URL ← configmap cfgl-settings:db_url  [service]" in text
    assert "DB_PASSWORD ← secret cfgl-db:password (value never shown)  [service]" in text
    assert "file /app/config/application.yml ← configmap cfgl-settings:application.yml  [service]" in text
    assert ["running", _checksum(k, "cfgl")[:8]] in [line.split() for line in text.splitlines()]
    everything = json.dumps([reply, feed(live.chat.rt), audit.since(live.chat.rt.redis, 3600)], default=str)
    dep = json.dumps(k.api.sanitize_for_serialization(fetching.read_deployment(k, NS, "cfgl")))
    for where in (text, everything, dep):
        assert SECRET_VALUE not in where
    [missing] = live("alice", "/config cfgm")
    assert "⚠ ConfigMap cfgm-nowhere has no key x in shop-test: deploys are refused until it has" in missing["text"]


def test_a_deploy_naming_a_missing_configmap_is_refused_and_says_what_to_do(live, k):
    replies = live("alice", "/deploy cfgm v1")
    assert "reads key 'x' of ConfigMap cfgm-nowhere, which shop-test does not have: create it" in replies[-1]["text"]
    assert fetching.read_deployment(k, NS, "cfgm") is None


def test_half_gib_preset_renders_512mi_and_memory_requests_equal_limits(live, k):
    live("alice", "/deploy cfgl v3")
    resources = fetching.read_deployment(k, NS, "cfgl").spec.template.spec.containers[0].resources
    assert resources.limits == {"cpu": "500m", "memory": "512Mi"}
    assert resources.requests == {"cpu": "250m", "memory": "512Mi"}  # CPU × 0.5 (general), memory = limits
    [pod] = wait_pods(k, NS, "cfgl", 1, lambda p: fetching.is_ready(p) and p.spec.containers[0].image.endswith(":v3"))
    assert pod.spec.containers[0].resources.requests["memory"] == "512Mi"


def test_probes_lifecycle_service_type_dns_and_zone_spread_reach_the_cluster(live, k):
    done = live("alice", "/deploy prbl v1")
    assert done[-1]["text"].startswith("✔ prbl (test): rolling update to v1 — done"), done[-1]["text"]
    pod = fetching.read_deployment(k, NS, "prbl").spec.template.spec
    container = pod.containers[0]
    assert (container.readiness_probe.http_get.path, container.readiness_probe.timeout_seconds,
            container.readiness_probe.failure_threshold) == ("/ready", 2, 4)
    assert container.liveness_probe.initial_delay_seconds == 90
    assert container.startup_probe.failure_threshold == 40
    assert container.lifecycle.pre_stop._exec.command == ["sh", "-c", "curl -s localhost:3000/deregister; sleep 15"]
    assert pod.termination_grace_period_seconds == 50
    assert [(o.name, o.value) for o in pod.dns_config.options] == [("ndots", "2")]
    [spread] = pod.topology_spread_constraints
    assert (spread.topology_key, spread.when_unsatisfiable) == ("topology.kubernetes.io/zone", "ScheduleAnyway")
    service = k.core.read_namespaced_service("prbl", NS)
    assert service.spec.type == "NodePort" and service.spec.ports[0].node_port
    live.reload({"prbl": {"service_type": "ClusterIP"}})
    live("alice", "/deploy prbl v2")
    service = k.core.read_namespaced_service("prbl", NS)
    assert service.spec.type == "ClusterIP" and not service.spec.ports[0].node_port


def _hpa(k, name: str):
    return fetching.read_autoscaler(k, NS, name)


def test_the_catalog_hpa_is_applied_with_every_deploy_and_status_shows_it_at_max(live, k):
    live("alice", "/deploy hpal v1")
    hpa = _hpa(k, "hpal")
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (1, 2)
    assert hpa.spec.metrics[0].resource.target.average_utilization == 70
    # 3 replicas asked, at most 2 allowed: the HPA controller brings it to its maximum without any metrics
    wait_until(lambda: (_hpa(k, "hpal").status.desired_replicas, _hpa(k, "hpal").status.current_replicas) == (2, 2)
               and fetching.read_deployment(k, NS, "hpal").status.ready_replicas == 2, 90, "the HPA at 2 of 2")
    [status] = live("alice", "/status hpal")
    assert status["message"]["severity"] == "warning"
    assert ("test autoscale: 1–2, 2 current, 2 desired — at its maximum of 2: raise it with /autoscale hpal 1-<max>"
            in status["text"])
    assert "autoscale 1–2 at 70% CPU" in status["text"]  # what the catalog says
    live("alice", "/deploy hpal v2")  # a deploy keeps the HPA's count (neither 3 from the catalog, nor 1)
    assert fetching.read_deployment(k, NS, "hpal").spec.replicas == 2


def test_a_deploy_keeps_the_replicas_of_an_autoscaled_service(live, k):
    """Leaving replicas out of the applied Deployment would hand the field back to its default, 1."""
    live("alice", "/deploy hpak v1")
    assert _hpa(k, "hpak") is not None and fetching.read_deployment(k, NS, "hpak").spec.replicas == 3
    live("alice", "/deploy hpak v2")
    dep = fetching.read_deployment(k, NS, "hpak")
    assert dep.spec.replicas == 3 and dep.status.ready_replicas == 3


def test_autoscale_changes_stand_until_the_catalog_changes_and_are_audited(live, k):
    live("alice", "/deploy hpal v1")
    changed = live("alice", "/autoscale hpal 1-4")
    assert changed[-1]["text"].startswith("✔ hpal (test): autoscaling 1–4 replicas at 70% CPU")
    assert "(it says: 1–2 at 70% CPU)" in changed[-1]["text"]
    entries = [e for e in audit.since(live.chat.rt.redis, 3600) if e.result == "applied"]
    assert [(e.who, e.command) for e in entries][-1] == (
        "alice", "autoscale hpal in test: 1–4 at 70% CPU (catalog says 1–2 at 70% CPU)")
    live("alice", "/deploy hpal v2")
    assert _hpa(k, "hpal").spec.max_replicas == 4  # the chat's change stands
    [status] = live("alice", "/status hpal")
    assert "(set by alice at " in status["text"] and "with /autoscale; the catalog says 1–2 at 70% CPU)" in status["text"]
    live.reload({"hpal": {"test": {"autoscale": {"min": 1, "max": 3, "cpu": 50}}}})
    live("alice", "/deploy hpal v3")
    hpa = _hpa(k, "hpal")
    assert (hpa.spec.max_replicas, hpa.spec.metrics[0].resource.target.average_utilization) == (3, 50)
    assert "dockyard.dev/autoscale-set-by" not in (hpa.metadata.annotations or {})
    live.reload({"hpal": {"test": {"autoscale": None}}})
    live("alice", "/deploy hpal v4")
    assert _hpa(k, "hpal") is None  # the catalog no longer autoscales: its HPA goes
    assert "is autoscaled" not in live("alice", "/scale hpal 1")[-1]["text"]
