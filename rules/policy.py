"""Who may run which command where: pure decisions over the loaded rules."""

from __future__ import annotations

from dataclasses import dataclass

from rules.models import Rules
from rules.policy_model import Grant

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Identity:
    """A chat user resolved to a Dockyard user (or anonymous)."""

    user: str  # Dockyard user name, or "anonymous"
    channel: str  # console | slack | dingtalk
    chat_id: str  # the id the chat platform gave us

    @property
    def known(self) -> bool:
        return self.user != ANONYMOUS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def resolve(rules: Rules, channel: str, chat_id: str) -> Identity:
    """Map a chat identity to a Dockyard user; console ids are user names."""
    for name, user in rules.policy.users.items():
        if channel == "console" and chat_id == name:
            return Identity(name, channel, chat_id)
        if channel == "slack" and user.slack == chat_id:
            return Identity(name, channel, chat_id)
        if channel == "dingtalk" and user.dingtalk == chat_id:
            return Identity(name, channel, chat_id)
        if channel == "wecom" and user.wecom == chat_id:
            return Identity(name, channel, chat_id)
        if channel == "feishu" and user.feishu == chat_id:
            return Identity(name, channel, chat_id)
    return Identity(ANONYMOUS, channel, chat_id)


def actions_of(rules: Rules, role: str, seen: frozenset = frozenset()) -> set[str]:
    """Every action a role allows, following roles it includes."""
    if role in seen:
        return set()
    actions: set[str] = set()
    for item in rules.policy.roles.get(role, []):
        if item in rules.policy.roles:
            actions |= actions_of(rules, item, seen | {role})
        else:
            actions.add(item)
    return actions


def _covers(rules: Rules, grant: Grant, service: str | None, env: str | None) -> bool:
    """Does a grant reach this service (by name, team, or '*' when no team is named) and env?"""
    if service is not None:
        svc = rules.service(service)
        named = service in grant.services
        in_team = svc is not None and svc.team in grant.teams
        everything = "*" in grant.services and not grant.teams
        if not (named or in_team or everything):
            return False
    return env is None or "*" in grant.envs or env in grant.envs


def roles_with(rules: Rules, action: str) -> list[str]:
    """The smallest roles that allow an action (a role that includes another is left out)."""
    holders = [r for r in rules.policy.roles if action in actions_of(rules, r)]
    return [r for r in holders if not any(o != r and o in holders and actions_of(rules, o) < actions_of(rules, r)
                                          for o in holders)] or holders


def check(rules: Rules, who: Identity, action: str, service: str | None, env: str | None) -> Decision:
    """May `who` perform `action` on `service` in `env`? A refusal names the role it needs."""
    if who.known:
        grants = rules.policy.users[who.user].grants
    else:
        grants = [Grant(role=r) for r in rules.policy.anonymous]
    for grant in grants:
        if action in actions_of(rules, grant.role) and _covers(rules, grant, service, env):
            return Decision(True)
    needed = " or ".join(roles_with(rules, action)) or "(no role allows it)"
    scope = " ".join(p for p in (service or "", f"in {env}" if env else "") if p)
    subject = who.user if who.known else f"unknown {who.channel} user {who.chat_id}"
    hint = "" if who.known else " — ask an admin to add your id to rules/policy.yaml"
    return Decision(False, f"{subject} may not {action}{' ' + scope if scope else ''}: "
                           f"needs role {needed}{' for ' + scope if scope else ''}{hint}")
