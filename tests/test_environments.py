"""Environments beyond test and prod: the catalog lists them in promotion order, each with its approval rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from rq import Queue

from bots import commands as c
from bots.grammar import parse
from bots.console.sink import conversation_key
from bots.pipeline import ChatRequest, submit
from core import audit, runtime
from deploy import fetching
from deploy.kube import connect
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from rules import RulesError, load_rules
from state import images
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules

FOUR = ["dev", "test", {"name": "staging", "approval": "none"}, {"name": "prod", "approval": "required"}]
# The session's cluster has the example catalog's four namespaces; hop spreads its four environments over them.
HOP_NAMESPACES = {"dev": "pay-test", "test": "shop-test", "staging": "pay-prod", "prod": "shop-prod"}


def four_environment_rules(directory: Path) -> Path:
    """The test catalog with dev → test → staging → prod, and hop (nginx) in all four; alice may deploy in each."""
    write_rules(directory)
    catalog = yaml.safe_load((directory / "catalog.yaml").read_text())
    catalog["environments"] = FOUR
    catalog["services"]["hop"] = {
        "team": "storefront", "language": "node", "git": "shop/hop", "port": 3000, "router": "nginx",
        "host": "hop.example.com",
        "environments": {env: {"namespace": ns, "replicas": 1, "resources": "0.5C1G", "progress_deadline": 6}
                         for env, ns in HOP_NAMESPACES.items()}}
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    policy = yaml.safe_load((directory / "policy.yaml").read_text())
    policy["users"]["alice"]["grants"] = [{"role": "developer", "teams": ["storefront"],
                                           "envs": ["dev", "test", "staging", "prod"]}]
    (directory / "policy.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    return directory


@pytest.fixture
def chat(redis, redis_server, cluster, tmp_path):
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, four_environment_rules(tmp_path),
                                      cluster.dockyard_kubeconfig))
    yield Chat(rt)
    runtime._current = previous


def hop_image(cluster, env: str) -> str | None:
    dep = fetching.read_deployment(connect(cluster.admin_kubeconfig), HOP_NAMESPACES[env], "hop")
    return fetching.image_of(dep) if dep else None


def test_an_image_climbs_the_catalog_order_one_environment_at_a_time(chat, cluster):
    refused = chat("alice", "/deploy hop v1 to staging")
    assert refused[0]["refused"]
    assert refused[0]["text"] == ("hop:v1 has not run successfully in test; deploy it there first "
                                  "(/deploy hop v1 to test), or an SRE may add --break-glass <reason>")
    assert "has not run successfully in dev" in chat("alice", "/deploy hop v1 to test")[0]["text"]
    assert Queue("rollouts", connection=chat.rt.redis).count == 0  # refused at once, nothing queued
    assert chat("alice", "/deploy hop v1 to dev")[-1]["text"].startswith("✔ hop (dev): rolling update to v1 — done")
    assert chat("alice", "/deploy hop v1 to test")[-1]["text"].startswith("✔ hop (test): rolling update to v1")
    staged = chat("alice", "/deploy hop v1 to staging")  # the catalog asks no approval in staging
    assert staged[-1]["text"].startswith("✔ hop (staging): rolling update to v1 — done")
    assert hop_image(cluster, "staging") == "registry.local/shop/hop:v1"


def test_a_queued_deploy_meets_the_rule_again_when_it_runs(chat, cluster):
    """`/deploy hop to staging` takes the newest image; one built while the deploy waited never passed test."""
    chat("alice", "/deploy hop v1 to dev")
    chat("alice", "/deploy hop v1 to test")
    images.record(chat.rt.redis, "hop", "v1", "build of v1")
    assert chat("alice", "/deploy hop to staging", run=False) == []  # accepted: v1 passed test
    images.record(chat.rt.redis, "hop", "v7", "a build that landed while the deploy waited")
    DockyardSimpleWorker(list(QUEUES), connection=chat.rt.redis).work(burst=True)
    answer = [json.loads(r) for r in chat.rt.redis.lrange(conversation_key(f"conv-{chat.count}"), 0, -1)]
    assert "hop:v7 has not run successfully in test" in answer[-1]["text"]
    assert hop_image(cluster, "staging") != "registry.local/shop/hop:v7"


def test_approval_is_required_where_the_catalog_says_and_each_environment_has_its_host(chat, cluster):
    for env in ("dev", "test", "staging"):  # the catalog requires no approval before prod
        assert chat("alice", f"/deploy hop v2 to {env}")[-1]["text"].startswith(f"✔ hop ({env}): rolling update")
    receipt = chat("alice", "/deploy hop v2 to prod")  # hop's prod says nothing: the catalog requires it
    assert receipt[-1]["text"].startswith("ℹ hop to prod needs an approval: request ")
    assert hop_image(cluster, "prod") != "registry.local/shop/hop:v2"
    posted = [m for m in feed(chat.rt) if m["text"].startswith("⚠ approval ")]
    ident = re.match(r"⚠ approval (\w+):", posted[-1]["text"]).group(1)
    assert chat("carol", f"/approve {ident}")[0]["text"].startswith(f"✔ approved {ident}")
    assert hop_image(cluster, "prod") == "registry.local/shop/hop:v2"
    ingresses = connect(cluster.admin_kubeconfig).dynamic.resources.get(api_version="networking.k8s.io/v1",
                                                                         kind="Ingress")
    hosts = {env: [rule["host"] for rule in ingresses.get(name="hop", namespace=ns).to_dict()["spec"]["rules"]]
             for env, ns in HOP_NAMESPACES.items()}
    assert hosts == {"dev": ["hop.dev.example.com"], "test": ["hop.test.example.com"],
                     "staging": ["hop.staging.example.com"], "prod": ["hop.example.com"]}


def test_an_sre_breaks_glass_past_the_order_and_it_is_audited(chat, cluster):
    done = chat("dave", "/deploy hop v9 to staging --break-glass INC-7 fix needs staging now")
    assert done[-1]["text"].startswith("✔ hop (staging): rolling update to v9 — done")
    [entry] = [e for e in audit.since(chat.rt.redis, 60) if e.result == "break-glass"]
    assert (entry.who, entry.target) == ("dave", "hop")
    assert entry.command == "break glass: INC-7 fix needs staging now (hop:v9 to staging, never run in test)"


def test_the_grammar_takes_any_environment_name_and_the_catalog_decides(chat):
    assert parse("/deploy web v1 to staging") == c.Deploy("web", tag="v1", env="staging")
    assert parse("/scale web 2 in dev") == c.Scale("web", replicas=2, env="dev")
    outcome = submit(chat.rt, ChatRequest("console", "alice", "/deploy web v1 to staging", {"sink": "console"}))
    assert outcome.message.title == "web has no staging environment (it has test, prod)"
    outcome = submit(chat.rt, ChatRequest("console", "dave", "/freeze qa until 2h", {"sink": "console"}))
    assert outcome.message.title == "there is no qa environment (the catalog has dev, test, staging, prod)"


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    return four_environment_rules(tmp_path)


def _refusal(rules_dir: Path, name: str = "catalog.yaml") -> tuple[int, str]:
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir)
    path, line, reason = str(err.value).split(":", 2)
    assert path == str(rules_dir / name)
    return int(line), reason


def _line_of(path: Path, needle: str, after: str = "") -> int:
    """The line of the first `needle` at or after the first line holding `after`."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


def _set(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_service_may_require_approval_but_never_waive_the_catalogs(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _set(catalog, lambda d: d["services"]["hop"]["environments"]["staging"].update(approval="required"))
    assert load_rules(rules_dir).catalog.services["hop"].environments["staging"].approval == "required"
    _set(catalog, lambda d: d["services"]["hop"]["environments"]["prod"].update(approval="none"))
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "approval: none", after="  hop:")
    assert "approval: none cannot loosen the catalog, whose environments: require approval in prod" in reason


def test_an_environment_the_catalog_does_not_list_is_refused_with_its_line(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _set(catalog, lambda d: d["services"]["hop"]["environments"].update(qa={"namespace": "shop-test"}))
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "    qa:", after="  hop:")
    assert "unknown environment 'qa': the catalog's environments: are dev, test, staging, prod" in reason


def test_a_build_deploys_only_to_a_services_first_environment(rules_dir):
    catalog = rules_dir / "catalog.yaml"
    _set(catalog, lambda d: d["services"]["hop"].update(auto_deploy="test"))
    line, reason = _refusal(rules_dir)
    assert line == _line_of(catalog, "auto_deploy: test", after="  hop:")
    assert "auto_deploy: test must be none or dev, the first environment hop has" in reason


def test_grants_and_freezes_name_only_the_catalogs_environments(rules_dir):
    policy = rules_dir / "policy.yaml"
    _set(policy, lambda d: d["users"]["bob"]["grants"][0].update(envs=["stg"]))
    line, reason = _refusal(rules_dir, "policy.yaml")
    assert line == _line_of(policy, "- stg")
    assert "environment 'stg' is not one of the catalog's environments: (dev, test, staging, prod)" in reason
