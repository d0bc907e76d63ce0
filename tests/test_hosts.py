"""Hosts per environment: test and prod never share a host, and a host claimed twice stops start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploy import applying
from deploy.kube import connect
from deploy.render import Target
from deploy.routers import Split, router_for
from rules import RulesError, load_rules
from tests.test_render import check_golden

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("router", ["nginx", "istio", "gateway"])
@pytest.mark.parametrize("env", ["test", "prod"])
def test_each_router_routes_each_environment_by_its_own_host(example_rules, router, env):
    target = Target.of(example_rules, "web", env)
    check_golden(f"router-{router}-{env}-w10", router_for(router).objects(target, Split(weight=10)))


def test_test_and_prod_ingresses_on_the_cluster_carry_different_hosts(example_rules, cluster):
    dockyard, admin = connect(cluster.dockyard_kubeconfig), connect(cluster.admin_kubeconfig)
    ingresses = admin.dynamic.resources.get(api_version="networking.k8s.io/v1", kind="Ingress")
    hosts = {}
    for env in ("test", "prod"):
        target = Target.of(example_rules, "web", env)
        [ingress] = router_for("nginx").objects(target, Split())
        applying.apply(dockyard, ingress)  # as Dockyard applies it, with Dockyard's own identity
        live = ingresses.get(name="web", namespace=target.namespace).to_dict()
        hosts[env] = [rule.get("host") for rule in live["spec"]["rules"]]
        applying.delete(dockyard, "networking.k8s.io/v1", "Ingress", "web", target.namespace)
    assert hosts == {"test": ["web.test.example.com"], "prod": ["shop.example.com"]}


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    for name in ("catalog.yaml", "routing.yaml", "policy.yaml"):
        shutil.copy(ROOT / "rules" / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _refusal(rules_dir: Path) -> tuple[int, str]:
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir)
    path, line, reason = str(err.value).split(":", 2)
    assert path == str(rules_dir / "catalog.yaml")
    return int(line), reason


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_two_environments_claiming_one_host_are_refused_at_the_second(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _edit(catalog, "test: {namespace: shop-test, replicas: 2,", "test: {namespace: shop-test, host: shop.example.com, "
                                                               "replicas: 2,")
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "host: shop.example.com, replicas: 2")  # web's test, after web's host:
    assert "host 'shop.example.com' is claimed twice: by web in prod and by web in test" in reason


def test_two_services_claiming_one_host_are_refused_at_the_second(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _edit(catalog, "host: api.shop.svc.cluster.local", "host: shop.example.com")
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "host: shop.example.com   # prod's host")  # api's, after web's
    assert "host 'shop.example.com' is claimed twice: by web in prod and by api in prod" in reason


def test_a_host_the_pattern_gives_counts_as_a_claim(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _edit(catalog, "prod: {namespace: pay-prod,", "prod: {namespace: pay-prod, host: web.test.example.com,")
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "host: web.test.example.com,")
    assert "claimed twice: by web in test and by ledger in prod" in reason


def test_prod_must_name_its_host_when_the_others_have_one(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _edit(catalog, "    host: shop.example.com", "    # no host")
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "prod: {namespace: shop-prod, replicas: 4")
    assert "web has no host in prod but routes web.test.example.com in test" in reason
    assert "set host: on the service" in reason


def test_a_host_pattern_may_name_only_service_and_env(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _edit(catalog, 'host_pattern: "{service}.{env}.example.com"', 'host_pattern: "{service}.{team}.example.com"')
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "host_pattern:")
    assert "may use only {service} and {env}" in reason
