"""Policy decisions: who may do what on which service in which environment."""

from __future__ import annotations

import pytest

from rules import policy


@pytest.mark.parametrize("user,action,service,env,allowed", [
    ("alice", "deploy", "web", "prod", True),        # storefront developer
    ("alice", "deploy", "api", "test", True),
    ("alice", "deploy", "ledger", "test", False),    # payments is not her team
    ("alice", "approve", None, None, False),
    ("bob", "deploy", "ledger", "test", True),
    ("bob", "deploy", "ledger", "prod", False),      # test only
    ("bob", "status", "web", None, True),            # viewer everywhere
    ("carol", "approve", None, None, True),
    ("carol", "deploy", "web", "test", False),
    ("dave", "silence", None, None, True),
    ("dave", "deploy", "ledger", "prod", True),
    ("dave", "freeze", None, "prod", True),
])
def test_grants(example_rules, user, action, service, env, allowed):
    who = policy.resolve(example_rules, "console", user)
    assert policy.check(example_rules, who, action, service, env).allowed is allowed


def test_refusal_names_the_role_and_scope(example_rules):
    who = policy.resolve(example_rules, "console", "bob")
    decision = policy.check(example_rules, who, "deploy", "ledger", "prod")
    assert decision.reason == "bob may not deploy ledger in prod: needs role developer for ledger in prod"


def test_refusal_names_the_smallest_role(example_rules):
    who = policy.resolve(example_rules, "console", "alice")
    assert "needs role tester" in policy.check(example_rules, who, "approve", None, None).reason


def test_chat_identities_map_to_users_and_strangers_may_only_read(example_rules):
    assert policy.resolve(example_rules, "slack", "U01ALICE").user == "alice"
    assert policy.resolve(example_rules, "dingtalk", "carol01").user == "carol"
    stranger = policy.resolve(example_rules, "slack", "U999")
    assert not stranger.known
    assert policy.check(example_rules, stranger, "status", "web", None).allowed
    refusal = policy.check(example_rules, stranger, "deploy", "web", "test")
    assert not refusal.allowed and "unknown slack user U999" in refusal.reason
    assert "rules/policy.yaml" in refusal.reason


def test_roles_include_other_roles(example_rules):
    assert {"status", "deploy", "silence"} <= policy.actions_of(example_rules, "sre")
