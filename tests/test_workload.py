"""What the catalog says about a service's pods, rendered: configuration, probes, lifecycle, scheduling,
resources and autoscaling (golden files; UPDATE_GOLDEN=1 rewrites them), and the errors a bad entry gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploy import render
from deploy.build import templates
from deploy.render import Target
from rules import RulesError, load_rules
from tests.test_render import check_golden

ROOT = Path(__file__).resolve().parent.parent

CATALOG = """\
registry: registry.local
node_classes:
  general: {overcommit: 0.5}
  tight: {overcommit: 0.5, memory_overcommit: 0.75}
teams:
  storefront: {channel: storefront}
services:
  cfg:
    team: storefront
    language: java-gradle
    git: shop/cfg
    build: {jvm_options: -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError}
    config:
      env:
        SPRING_PROFILES_ACTIVE: test
        DB_URL: {configmap: cfg-settings, key: db_url}
        DB_PASSWORD: {secret: cfg-db, key: password}
      files:
        /app/config/application.yml: {configmap: cfg-files, key: application.yml}
        /app/config/logback.xml: {configmap: cfg-files, key: logback.xml}
    environments:
      test: {namespace: shop-test, replicas: 1, resources: 0.5C512M}
      prod:
        namespace: shop-prod
        replicas: 3
        resources: 2C4G
        node_class: tight
        config:
          env: {SPRING_PROFILES_ACTIVE: prod, DB_URL: {configmap: cfg-prod, key: db_url}}
          files: {/app/config/application.yml: {configmap: cfg-prod, key: application.yml}}
        autoscale:
          min: 3
          max: 30
          metrics:
            - {type: pods, name: http_requests_per_second, target: 100}
            - {type: external, name: queue_messages_ready, target: 30, selector: {queue: orders}}
  rpc:
    team: storefront
    language: go
    git: shop/rpc
    port: 9090
    app_type: rpc
    service_type: LoadBalancer
    probes:
      readiness: {path: /ready, port: 8081, initial_delay: 2, timeout: 1, threshold: 2}
      liveness: {port: 9090, initial_delay: 15, period: 20, timeout: 5, threshold: 6}
      startup: {threshold: 60}
    lifecycle:
      pre_stop: "curl -s http://127.0.0.1:8081/debug/stop/eurekaClient; sleep 20"
      termination_grace: 45
    dns_options: {ndots: 2, single-request-reopen: null}
    zone_spread: required
    environments:
      test: {namespace: shop-test, replicas: 2, resources: 1C2G, autoscale: {min: 2, max: 6, cpu: 70}}
"""

CHECKSUM = "0" * 64  # what a deploy computes from the ConfigMaps it reads (see test_configuration_live.py)


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return load_rules(_rules_dir(tmp_path_factory.mktemp("workload")))


def _rules_dir(directory: Path, catalog: str = CATALOG) -> Path:
    for name in ("routing.yaml", "policy.yaml"):
        shutil.copy(ROOT / "rules" / name, directory / name)
    (directory / "catalog.yaml").write_text(catalog)
    return directory


def _deployment(rules, service: str, env: str, **kw) -> dict:
    target = Target.of(rules, service, env)
    return render.deployment(target, f"{target.repository}:v1", change_cause="alice: /deploy", deployed_by="alice",
                             deployed_at="2026-11-22T10:15:00Z", **kw)


GOLDEN = [
    ("workload-config-test", lambda r: _deployment(r, "cfg", "test", config_checksum=CHECKSUM)),
    ("workload-config-prod", lambda r: _deployment(r, "cfg", "prod", config_checksum=CHECKSUM)),
    ("workload-probes-lifecycle-scheduling", lambda r: _deployment(r, "rpc", "test")),
    ("workload-service-types", lambda r: [render.service(Target.of(r, "rpc", "test"), "stable"),
                                          render.service(Target.of(r, "rpc", "test"), "canary")]),
    ("workload-catalog-hpas", lambda r: [render.catalog_autoscaler(Target.of(r, "rpc", "test")),
                                         render.catalog_autoscaler(Target.of(r, "cfg", "prod"))]),
]


@pytest.mark.parametrize("name,build", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_catalog_fields_render_as_in_the_golden_files(rules, name, build):
    check_golden(name, build(rules))


def test_configuration_names_configmaps_and_secrets_and_never_holds_a_value(rules):
    pod = _deployment(rules, "cfg", "prod", config_checksum=CHECKSUM)["spec"]["template"]
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["SPRING_PROFILES_ACTIVE"] == {"name": "SPRING_PROFILES_ACTIVE", "value": "prod"}  # prod wins
    assert env["DB_URL"]["valueFrom"] == {"configMapKeyRef": {"name": "cfg-prod", "key": "db_url"}}
    assert env["DB_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "cfg-db", "key": "password"}}
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/app/config/application.yml"]["subPath"] == "application.yml"  # prod's own file
    assert {v["configMap"]["name"] for v in pod["spec"]["volumes"]} == {"cfg-files", "cfg-prod"}
    assert pod["metadata"]["annotations"] == {render.CONFIG_CHECKSUM: CHECKSUM}


def test_the_checksum_follows_configmap_values_and_references(rules):
    config = Target.of(rules, "cfg", "test").config
    values = {pair: "x" for pair in config.configmaps}
    same = render.config_checksum(config, values)
    assert render.config_checksum(config, dict(values)) == same
    assert render.config_checksum(config, {**values, ("cfg-files", "application.yml"): "y"}) != same
    other = Target.of(rules, "cfg", "prod").config
    assert render.config_checksum(other, {pair: "x" for pair in other.configmaps}) != same


@pytest.mark.parametrize("preset,limits", [("0.5C512M", ("500m", "512Mi")), ("1C2G", ("1000m", "2048Mi")),
                                           ("0.25C1.5G", ("250m", "1536Mi")), ("2C256M", ("2000m", "256Mi"))])
def test_presets_take_half_gib_sizes_and_memory_requests_equal_limits(preset, limits):
    out = render.resources(preset, overcommit=0.5)
    assert (out["limits"]["cpu"], out["limits"]["memory"]) == limits
    assert out["requests"]["memory"] == out["limits"]["memory"]  # no memory overcommit unless a class asks
    assert out["requests"]["cpu"] == f"{int(int(limits[0][:-1]) * 0.5)}m"  # CPU is overcommitted


def test_a_node_class_may_overcommit_memory(rules):
    resources = _deployment(rules, "cfg", "prod")["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"cpu": "2000m", "memory": "4096Mi"},
                         "requests": {"cpu": "1000m", "memory": "3072Mi"}}  # tight: memory × 0.75


def test_jvm_dockerfiles_size_the_heap_from_the_container(rules):
    default = templates.dockerfile(load_rules(ROOT / "rules").catalog.services["api"])
    assert 'ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75"' in default
    own = templates.dockerfile(rules.catalog.services["cfg"])
    assert 'ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"' in own
    assert "JAVA_TOOL_OPTIONS" not in templates.dockerfile(rules.catalog.services["rpc"])


@pytest.mark.parametrize("old,new,needle,reason", [
    ("resources: 0.5C512M", "resources: 0.5C512", "0.5C512", "is not like 1C1G, 1C2G or 0.5C512M"),
    ("resources: 0.5C512M", "resources: 0.0001C1G", "0.0001C1G", "whole number of millicores"),
    ("SPRING_PROFILES_ACTIVE: test", "SERVER_PORT: 8080", "SERVER_PORT", "quote it"),
    ("SPRING_PROFILES_ACTIVE: test", "API_TOKEN: hunter2", "API_TOKEN: hunter2",
     "looks like a credential and would sit in git"),
    ("SPRING_PROFILES_ACTIVE: test", "DOCKYARD_ENV: x", "DOCKYARD_ENV", "is set by Dockyard"),
    ("{secret: cfg-db, key: password}", "{secret: cfg-db, configmap: cfg, key: password}", "cfg-db, configmap",
     "exactly one of configmap: or secret:"),
    ("/app/config/logback.xml:", "/app/config/application.yml/x:", "application.yml/x",
     "would sit inside the file /app/config/application.yml"),
    ("termination_grace: 45", "termination_grace: 20", "termination_grace: 20",
     "raise termination_grace above 20"),
    ("{min: 2, max: 6, cpu: 70}", "{min: 8, max: 6, cpu: 70}", "min: 8", "min 8 is above max 6"),
    ("target: 100}", "target: lots}", "target: lots", "is not a quantity"),
    ("service_type: LoadBalancer", "service_type: Ingress", "service_type: Ingress", "'ClusterIP', 'NodePort'"),
    ("zone_spread: required", "zone_spread: always", "zone_spread: always", "'none', 'preferred'"),
    ("readiness: {path: /ready,", "readiness: {path: ready,", "path: ready", "must start with /"),
    ("    git: shop/rpc\n", "    git: shop/rpc\n    build: {jvm_options: -Xmx1g}\n", "  rpc:",
     "jvm_options is for java-maven and java-gradle"),
])
def test_bad_entries_stop_start_up_with_file_line_and_reason(tmp_path, old, new, needle, reason):
    assert old in CATALOG
    directory = _rules_dir(tmp_path, CATALOG.replace(old, new, 1))
    with pytest.raises(RulesError) as err:
        load_rules(directory)
    path = directory / "catalog.yaml"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)
    message = str(err.value)
    assert reason in message
    assert message.startswith(f"{path}:{line}: "), message
