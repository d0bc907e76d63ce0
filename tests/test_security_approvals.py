"""Every change to an approval-gated environment needs a second person whose grants cover it (#12 items 4, 5)."""

from __future__ import annotations

import re

import pytest
import yaml
from rq import Queue

from core import runtime
from deploy import fetching, render
from deploy.kube import connect
from jobs import approvals
from state import images
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules


@pytest.fixture
def chat(redis, redis_server, cluster, tmp_path):
    """The test catalog plus `gate` (test and an approval-gated prod) and erin, a tester for payments/test only."""
    rules = write_rules(tmp_path)
    catalog = yaml.safe_load((rules / "catalog.yaml").read_text())
    catalog["services"]["gate"] = {
        "team": "storefront", "language": "node", "git": "shop/gate", "port": 3000, "router": "replicas",
        "environments": {
            "test": {"namespace": "shop-test", "replicas": 1, "resources": "0.5C1G", "progress_deadline": 6},
            "prod": {"namespace": "shop-prod", "replicas": 1, "resources": "0.5C1G", "approval": "required",
                     "progress_deadline": 6}}}
    (rules / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    policy = yaml.safe_load((rules / "policy.yaml").read_text())
    policy["users"]["erin"] = {"grants": [{"role": "tester", "teams": ["payments"], "envs": ["test"]}]}
    (rules / "policy.yaml").write_text(yaml.safe_dump(policy))
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, rules, cluster.dockyard_kubeconfig))
    yield Chat(rt)
    runtime._current = previous


def last_request(chat: Chat) -> str:
    posted = [m for m in feed(chat.rt) if m["text"].startswith("⚠ approval ")]
    return re.match(r"⚠ approval (\w+):", posted[-1]["text"]).group(1)


def prod(cluster, track: str = "stable"):
    name = "gate" if track == "stable" else render.workload_name("gate", track)
    return fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-prod", name)


def approve(chat: Chat, command: str) -> str:
    """alice asks, carol approves; returns the approval id."""
    receipt = chat("alice", command)
    assert "needs an approval" in receipt[-1]["text"], receipt
    ident = last_request(chat)
    assert chat("carol", f"/approve {ident}")[0]["text"].startswith(f"✔ approved {ident}")
    return ident


def test_an_approver_must_be_granted_the_service_and_environment(chat):
    chat("alice", "/deploy gate v1")
    chat("alice", "/deploy gate v1 to prod")
    ident = last_request(chat)
    refused = chat("erin", f"/approve {ident}")
    assert refused[0]["refused"]
    assert refused[0]["text"] == "erin may not approve gate in prod: needs role tester for gate in prod"
    assert chat("erin", f"/reject {ident} no")[0]["refused"]
    assert approvals.load(ident)["status"] == "pending"
    assert Queue("rollouts", connection=chat.rt.redis).count == 0
    # The job checks the same thing, whoever reaches it (a queued /approve, a link).
    with pytest.raises(Exception, match="erin may not approve gate in prod"):
        approvals.approve(ident, "erin", {"sink": "console"})


@pytest.mark.parametrize("command,change", [
    ("/rollback gate to 1 in prod", "rollback to revision 1"),
    ("/scale gate 3 in prod", "scale to 3 replicas"),
    ("/autoscale gate 1-3 in prod", "autoscale 1-3 at 80% cpu"),
    ("/restart gate in prod", "restart every pod"),
    ("/deploy gate promote in prod", "promote the live canary"),
])
def test_every_production_change_waits_for_an_approval(chat, cluster, command, change):
    receipt = chat("alice", command)
    assert receipt[-1]["text"].startswith("ℹ gate to prod needs an approval: request "), receipt
    ident = last_request(chat)
    record = approvals.load(ident)
    assert (record["status"], record["strategy_text"], record["requester"]) == ("pending", change, "alice")
    assert Queue("rollouts", connection=chat.rt.redis).count == 0 and prod(cluster) is None  # nothing ran
    assert chat("alice", f"/approve {ident}")[0]["refused"]  # the requester is no approver of her own change


def test_an_approved_scale_runs_and_names_both_people(chat, cluster):
    chat("alice", "/deploy gate v1")
    approve(chat, "/deploy gate v1 to prod")
    assert prod(cluster).spec.replicas == 1
    ident = approve(chat, "/scale gate 2 in prod")
    assert prod(cluster).spec.replicas == 2
    assert approvals.load(ident)["decided_by"] == "carol"


def test_a_new_canary_weight_keeps_the_image_the_approver_saw(chat, cluster):
    chat("alice", "/deploy gate v1")
    chat("alice", "/deploy gate v2")
    approve(chat, "/deploy gate v1 to prod")
    approve(chat, "/deploy gate v2 to prod canary 10%")
    assert fetching.image_of(prod(cluster, "canary")).endswith(":v2")
    images.record(chat.rt.redis, "gate", "v3", "a build after the canary started")
    images.mark_passed(chat.rt.redis, "gate", "test", "v3")
    ident = approve(chat, "/deploy gate to prod canary 30%")
    assert approvals.load(ident)["image"] == ""  # nothing new was asked for
    canary = prod(cluster, "canary")
    assert fetching.image_of(canary).endswith(":v2")  # not v3, the newest build
    assert canary.metadata.annotations.get("dockyard.dev/canary-weight") == "30"
    approve(chat, "/deploy gate promote in prod")
    assert fetching.image_of(prod(cluster)).endswith(":v2")
