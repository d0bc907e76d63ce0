"""Freezes: every change to a frozen environment is refused with who, why and until when; an SRE may break glass."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml
from rq import Queue

from bots.pipeline import ChatRequest, submit
from core import audit, runtime
from deploy import fetching
from deploy.kube import connect
from rules import load_rules
from state import freezes
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules

CHANGES = ["/deploy roll v1 {env}", "/deploy roll promote {env}", "/deploy roll canary 10% {env}", "/rollback roll {env}", "/scale roll 2 {env}",
           "/autoscale roll 1-3 {env}", "/restart roll {env}"]


@pytest.fixture
def chat(redis, redis_server, cluster, tmp_path):
    rules = write_rules(tmp_path)
    catalog = yaml.safe_load((rules / "catalog.yaml").read_text())
    catalog["services"]["frz"] = {  # a service of its own: the session cluster is shared with other tests
        "team": "storefront", "language": "node", "git": "shop/frz", "port": 3000, "router": "replicas",
        "environments": {"test": {"namespace": "shop-test", "replicas": 1, "resources": "0.5C1G",
                                  "progress_deadline": 6}}}
    (rules / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, rules, cluster.dockyard_kubeconfig))
    yield Chat(rt)
    runtime._current = previous


def changes(env_words: str) -> list[str]:
    return [c.format(env=env_words) for c in CHANGES]


def answer(chat: Chat, user: str, text: str):
    """The pipeline's immediate answer, without running any job."""
    return submit(chat.rt, ChatRequest("console", user, text, {"sink": "console"}))


def test_every_change_is_refused_while_frozen_and_accepted_after(chat):
    started = chat("dave", "/freeze test until 2h release week")
    assert started[-1]["text"].startswith("⚠ test frozen until ")
    assert "release week" in started[-1]["text"]
    for text in changes("in test"):
        refused = answer(chat, "alice", text)
        assert not refused.accepted, text
        assert "test is frozen by dave until " in refused.message.title and "release week" in refused.message.title
        assert "an SRE may add --break-glass <reason>" in refused.message.title
    assert answer(chat, "alice", "/deploy roll abort").accepted  # back to stable stays open
    assert answer(chat, "alice", "/status roll").accepted  # reading is never frozen
    lifted = chat("dave", "/unfreeze test")
    assert lifted[-1]["text"].startswith("✔ test unfrozen by dave (frozen by dave: release week)")
    assert answer(chat, "alice", "/scale roll 2").accepted


def test_breaking_glass_is_for_sres_audited_and_announced(chat, cluster):
    chat("alice", "/deploy frz v1")
    chat("dave", "/freeze test until 1h incident review")
    refused = chat("alice", "/scale frz 2 --break-glass hotfix")
    assert refused[0]["refused"] and "alice may not breakglass frz in test: needs role sre" in refused[0]["text"]
    done = chat("dave", "/scale frz 2 --break-glass INC-7 capacity")
    assert any("break glass: dave ran /scale frz in frozen test" in m["text"] for m in done)
    assert any("break glass: dave ran /scale frz" in m["text"] for m in feed(chat.rt) if not m.get("refused"))
    dep = fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-test", "frz")
    assert dep.spec.replicas == 2
    trail = [(e.who, e.command, e.result) for e in audit.since(chat.rt.redis, 60) if e.result == "break-glass"]
    assert ("dave", "break glass: INC-7 capacity (freeze)", "break-glass") in trail


def test_a_queued_change_meets_a_freeze_that_began_since(chat):
    assert answer(chat, "alice", "/scale roll 3").accepted
    freezes.start(chat.rt.redis, "test", datetime(2099, 1, 1, tzinfo=timezone.utc), "dave", "code freeze")
    told = chat("dave", "/help")  # runs the workers: the queued /scale meets the freeze
    reports = [m["text"] for m in feed(chat.rt) if "failed" in m["text"]]
    assert any("test is frozen by dave until 2099-01-01" in text for text in reports), reports
    assert Queue("rollouts", connection=chat.rt.redis).count == 0 and told


def test_recurring_windows_from_the_policy_and_the_time_zone(tmp_path, redis):
    rules_dir = write_rules(tmp_path)
    policy = yaml.safe_load((rules_dir / "policy.yaml").read_text())
    policy["freezes"] = [{"envs": ["prod"], "weekdays": ["sat", "sun"], "reason": "weekend"},
                         {"envs": ["prod"], "from": "22:00", "to": "07:00", "reason": "nightly"},
                         {"envs": ["*"], "dates": ["2026-10-01"], "reason": "national holiday"}]
    (rules_dir / "policy.yaml").write_text(yaml.safe_dump(policy))
    rules = load_rules(rules_dir)
    saturday_noon = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert freezes.active(redis, rules, "prod", saturday_noon).reason == "weekend"
    assert freezes.active(redis, rules, "test", saturday_noon) is None
    tuesday_23 = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)
    assert freezes.active(redis, rules, "prod", tuesday_23).reason == "nightly"
    # 23:30 UTC is 07:30 the next morning in Shanghai: outside the nightly window there.
    assert freezes.active(redis, rules, "prod", tuesday_23, zone="Asia/Shanghai") is None
    assert freezes.active(redis, rules, "test", datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)).reason == \
        "national holiday"


def test_a_bad_window_stops_the_rules_with_its_line(tmp_path):
    from rules import RulesError

    rules_dir = write_rules(tmp_path)
    text = (rules_dir / "policy.yaml").read_text() + "\nfreezes:\n  - {envs: [prod], from: '25:00', to: '07:00', reason: x}\n"
    (rules_dir / "policy.yaml").write_text(text)
    with pytest.raises(RulesError, match=r"policy.yaml:\d+: freezes.0.*time '25:00' is not HH:MM"):
        load_rules(rules_dir)
