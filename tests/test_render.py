"""Manifests from the catalog, checked against golden files (UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from deploy import render
from deploy.render import Target
from deploy.routers import RouterError, Split, router_for
from deploy.routers.replicas import ReplicaRouter, actual_percent, canary_replicas

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(name: str, objects) -> None:
    text = yaml.safe_dump_all(objects if isinstance(objects, list) else [objects], sort_keys=True)
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.read_text() == text, f"{name} differs from {path}; rerun with UPDATE_GOLDEN=1 if intended"


def change(track="stable"):
    return dict(change_cause="alice: /deploy web 20261122101500-alice", deployed_by="alice",
                deployed_at="2026-11-22T10:15:00Z")


CASES = [
    ("web-test-deployment", "web", "test", lambda t: render.deployment(t, f"{t.repository}:20261122101500-alice",
                                                                       **change())),
    ("api-prod-deployment", "api", "prod", lambda t: render.deployment(t, f"{t.repository}:v2.3.1", **change())),
    ("ledger-test-canary", "ledger", "test", lambda t: render.deployment(t, f"{t.repository}:v9", track="canary",
                                                                         replicas=1, **change())),
    ("web-test-service-pdb-hpa", "web", "test", lambda t: [render.service(t, "stable"),
                                                           render.pod_disruption_budget(t),
                                                           render.autoscaler(t, 2, 10, 60)]),
    ("reconcile-test-cronjob", "reconcile", "test", lambda t: render.cron_job(t, f"{t.repository}:v3", **change())),
]


@pytest.mark.parametrize("name,service,env,build", CASES, ids=[c[0] for c in CASES])
def test_manifests_match_golden_files(example_rules, name, service, env, build):
    check_golden(name, build(Target.of(example_rules, service, env)))


@pytest.mark.parametrize("router,split", [
    ("nginx", Split(weight=10)), ("nginx", Split(preview=True)), ("nginx", Split()),
    ("istio", Split(weight=20, preview=True)), ("gateway", Split(weight=30, preview=True)),
    ("replicas", Split(weight=10)),
])
def test_router_objects_match_golden_files(example_rules, router, split):
    target = Target.of(example_rules, "web", "test")
    chosen = router_for(router)
    name = f"router-{router}-w{split.weight}{'-preview' if split.preview else ''}"
    check_golden(name, chosen.services(target, split) + chosen.objects(target, split))


def test_defaults_the_seed_teams_learned(example_rules):
    api = render.deployment(Target.of(example_rules, "api", "prod"), "r/shop/api:1")
    pod = api["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] == 300
    assert container["readinessProbe"]["httpGet"]["path"] == "/actuator/health/readiness"  # the catalog's
    assert container["startupProbe"]["httpGet"]["path"] == "/actuator/health"  # health_path, the default
    assert container["livenessProbe"]["failureThreshold"] == 3 and container["livenessProbe"]["timeoutSeconds"] == 3
    assert container["lifecycle"]["preStop"]["exec"]["command"][-1].endswith("; sleep 20")  # deregister, then drain
    assert pod["terminationGracePeriodSeconds"] == 60
    # highmem overcommits CPU × 0.8; memory requests = limits, since memory below its limit invites OOM kills
    assert container["resources"] == {"limits": {"cpu": "2000m", "memory": "4096Mi"},
                                      "requests": {"cpu": "1600m", "memory": "4096Mi"}}
    assert pod["nodeSelector"] == {"dockyard.dev/node-class": "highmem"}
    assert "podAntiAffinity" in pod["affinity"]
    ledger = render.deployment(Target.of(example_rules, "ledger", "test"), "r/pay/ledger:1")
    assert ledger["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == \
        ["sh", "-c", "sleep 10"]
    assert ledger["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 40
    probe = ledger["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["tcpSocket"] == {"port": "http"} and "startupProbe" not in \
        ledger["spec"]["template"]["spec"]["containers"][0]


def test_labels_carry_app_team_track_and_version(example_rules):
    dep = render.deployment(Target.of(example_rules, "web", "test"), "r/shop/web:2026-x", track="canary")
    assert dep["spec"]["template"]["metadata"]["labels"] == {
        "app": "web", "team": "storefront", "track": "canary", "version": "2026-x",
        "app.kubernetes.io/managed-by": "dockyard"}
    assert dep["metadata"]["name"] == "web-canary"


@pytest.mark.parametrize("stable,weight,canary,actual", [(4, 10, 1, 20), (4, 50, 4, 50), (9, 10, 1, 10),
                                                          (2, 30, 1, 33), (1, 99, 99, 99)])
def test_replica_router_is_honest_about_granularity(stable, weight, canary, actual):
    assert canary_replicas(stable, weight) == canary
    assert actual_percent(stable, canary) == actual


def test_replica_router_says_what_it_can_do(example_rules):
    text = ReplicaRouter().describe(Split(weight=10), 4)
    assert text.startswith("10% asked, 1 of 5 pods = 20% actual")
    with pytest.raises(RouterError, match="a preview needs a router that matches headers"):
        ReplicaRouter().check(Split(preview=True))
    with pytest.raises(RouterError, match="one canary Ingress per host"):
        router_for("nginx").check(Split(weight=10, preview=True))
