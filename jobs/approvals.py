"""Approvals for environments marked `approval: required`: four-eyes, exactly once, with expiry.

Every change to such an environment waits for one: a deploy, a canary's new
weight or promotion, a rollback, scale, autoscale or restart. The approver
must be someone other than the requester whose grants cover that service in
that environment. The record and its exactly-once decision live in state/approvals.py; these
are the RQ entry points and what they tell the channels.
"""

from __future__ import annotations

import json
import secrets
import time

from bots import approval_messages as say
from bots.commands import Approve, Command, Deploy, DeployControl, Reject
from bots.message import Message
from core import audit, runtime
from core.errors import PermanentError
from jobs.notify import deliver, show
from jobs.queues import enqueue
from rules import policy, routing
from rules.models import Rules
from rules.workload import Autoscale
from state import approvals as store
from state import images, locks


def load(approval_id: str) -> dict | None:
    return store.load(runtime.get().redis, approval_id)


def _approver_roles() -> list[str]:
    return list(runtime.get().rules.policy.approvers)


def may_decide(user: str, service: str, env: str) -> policy.Decision:
    """May `user` approve a change to `service` in `env`? Their grant must cover both, as for any command."""
    rules = runtime.get().rules
    if user not in rules.policy.users:
        return policy.Decision(False, f"{user} is not a Dockyard user")
    return policy.check(rules, policy.Identity(user, "console", user), "approve", service, env)


def _deploy_image(cmd: Deploy, command: dict) -> tuple[dict, str, str]:
    """(command to run once approved, image, tag) for a deploy; a live canary's new weight keeps its image."""
    rt = runtime.get()
    live = locks.holder(rt.redis, cmd.service, cmd.env)
    if cmd.tag is None and cmd.strategy == "canary" and live is not None and live.kind == "canary":
        # Re-weighting: the rollout reads the canary's own image; resolving "newest build" here would
        # swap it for whatever was built since, which the approver never saw.
        return command, "", ""
    tag = cmd.tag or (images.latest(rt.redis, cmd.service) or {}).get("tag")
    if tag is None:
        raise PermanentError(f"no tag given and {cmd.service} has no build yet: /deploy {cmd.service} <tag> to {cmd.env}")
    unproven = images.unproven(rt.redis, rt.rules, cmd.service, cmd.env, tag)
    if unproven and not cmd.break_glass:
        raise PermanentError(unproven)
    return {**command, "tag": tag}, f"{rt.rules.image_repository(cmd.service)}:{tag}", tag


def describe(cmd: Command, rules: Rules | None = None) -> str:
    """The change an approver is asked about, in words (an /autoscale's CPU target as the catalog makes it)."""
    if isinstance(cmd, Deploy):
        when = f" at {cmd.at:%Y-%m-%d %H:%M %Z}" if cmd.at else ""
        if cmd.strategy == "canary":
            return f"canary {cmd.weight}%" + ("" if cmd.tag else " (re-weight the live canary, same image)") + when
        return cmd.strategy + when
    if isinstance(cmd, DeployControl):
        return f"{cmd.step} the live canary"
    return {"Rollback": lambda: f"rollback to {'revision ' + str(cmd.revision) if cmd.revision else 'the previous revision'}",
            "Scale": lambda: f"scale to {cmd.replicas} replicas",
            "Autoscale": lambda: "autoscale off" if cmd.off else  # type: ignore[attr-defined]
                f"autoscale {cmd.min_replicas}-{cmd.max_replicas} at {_goals(cmd, rules)}",
            "Restart": lambda: "restart every pod"}.get(type(cmd).__name__, lambda: f"/{cmd.verb}")()


def _goals(cmd: Command, rules: Rules | None) -> str:
    service = rules.service(cmd.service) if rules else None  # type: ignore[attr-defined]
    catalog = service.environments[cmd.env].autoscale if service else None  # type: ignore[attr-defined]
    asked = Autoscale.asked_in_chat(cmd.min_replicas, cmd.max_replicas, cmd.cpu_percent, catalog)  # type: ignore[attr-defined]
    return ", ".join(([f"{asked.cpu}% cpu"] if asked.cpu else []) +
                     [f"{m.type} {m.name} {m.target}/pod" for m in asked.metrics])


def request(command: dict, who: str, reply_to: dict) -> str:
    """Create an approval for a change and post it to the service's channel; returns its id."""
    rt = runtime.get()
    cmd = Command.from_dict(command)
    service, env = getattr(cmd, "service"), getattr(cmd, "env")
    image = tag = ""
    if isinstance(cmd, Deploy):
        command, image, tag = _deploy_image(cmd, command)
    approval_id = secrets.token_hex(3)
    now = time.time()
    record = {"id": approval_id, "requester": who, "service": service, "env": env, "tag": tag, "image": image,
              "strategy_text": describe(cmd, rt.rules), "break_glass": getattr(cmd, "break_glass", None) or "",
              "status": "pending", "created": now, "expires": now + rt.settings.approval_ttl,
              "command": json.dumps(command), "reply_to": json.dumps(reply_to), "refs": "[]",
              "approver_roles": json.dumps(_approver_roles())}
    store.save(rt.redis, record)
    if record["break_glass"]:
        audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"break glass: {record['break_glass']}",
                                           service, "break-glass"))
    data = load(approval_id)
    assert data is not None
    refs = []
    labels = routing.service_labels(rt.rules, service, env=env, kind="approval")
    for name, target in routing.named_targets_for(rt.rules, labels):
        style = routing.style_of(rt.rules, rt.settings, target, name)
        refs.append({"target": target, "channel": name, "ref": deliver(
            target, say.request(data, style.locale, style.zone), dedupe_key=f"approval:{approval_id}:{json.dumps(target)}")})
    store.set_refs(rt.redis, approval_id, refs)
    style = routing.style_of(rt.rules, rt.settings, reply_to)
    deliver(reply_to, say.waiting(data, style.locale, style.zone), dedupe_key=f"approval-receipt:{approval_id}")
    enqueue(rt.redis, rt.settings, "commands", "jobs.approvals.expire", "approval-expiry",
            delay=rt.settings.approval_ttl + 1, approval_id=approval_id)
    return approval_id


def _decide(approval_id: str, status: str, who: str, reason: str = "") -> tuple[str, dict | None]:
    return store.decide(runtime.get().redis, approval_id, status, who, reason)


def _refresh(approval: dict) -> None:
    """Replace the approval message wherever it was posted (buttons go away)."""
    rt = runtime.get()
    for posted in approval["refs"]:
        if posted.get("ref"):
            style = routing.style_of(rt.rules, rt.settings, posted["target"], posted.get("channel"))
            show(posted["target"], say.decided(approval, style.locale, style.zone), posted["ref"])


def _decided(approval: dict) -> Message:
    """The decision, as the requester's channel reads it."""
    rt = runtime.get()
    style = routing.style_of(rt.rules, rt.settings, approval["reply_to"])
    return say.decided(approval, style.locale, style.zone)


def _refuse(outcome: str, approval_id: str, approval: dict | None) -> PermanentError:
    if outcome == "missing" or approval is None:
        return PermanentError(f"there is no approval {approval_id}")
    if outcome == "expired":
        return PermanentError(f"approval {approval_id} has expired; ask for a new one")
    return PermanentError(f"approval {approval_id} was already {outcome}"
                          + (f" by {approval.get('decided_by')}" if approval.get("decided_by") else ""))


def approve(approval_id: str, who: str, reply_to: dict) -> None:
    """/approve <id>: someone whose grants cover the service there, other than the requester; it runs once."""
    rt = runtime.get()
    approval = load(approval_id)
    if approval is None:
        raise PermanentError(f"there is no approval {approval_id}")
    if who == approval["requester"]:
        raise PermanentError(f"four eyes: {who} asked for approval {approval_id} and cannot approve it too")
    allowed = may_decide(who, approval["service"], approval["env"])
    if not allowed.allowed:
        raise PermanentError(allowed.reason)
    outcome, approval = _decide(approval_id, "approved", who)
    if outcome != "ok":
        raise _refuse(outcome, approval_id, approval)
    assert approval is not None
    command = approval["command"]
    enqueue(rt.redis, rt.settings, "rollouts", "jobs.dispatch.run_approved", command.get("type", "deploy").lower(),
            job_id=f"approved-{approval_id}",
            timeout=3600, command=command, who={"user": approval["requester"], "approved_by": who},
            reply_to=approval["reply_to"])
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/approve {approval_id}", approval["service"],
                                       "approved"))
    _refresh(approval)
    deliver(reply_to, say.started(approval, routing.style_of(rt.rules, rt.settings, reply_to).locale),
            dedupe_key=f"approved-receipt:{approval_id}")


def reject(approval_id: str, who: str, reason: str, reply_to: dict) -> None:
    """/reject <id> [reason]: anyone who could have approved it."""
    rt = runtime.get()
    service, env = store.scope(rt.redis, approval_id)
    if service is None or env is None:
        raise PermanentError(f"there is no approval {approval_id}")
    allowed = may_decide(who, service, env)
    if not allowed.allowed:
        raise PermanentError(allowed.reason)
    outcome, approval = _decide(approval_id, "rejected", who, reason)
    if outcome != "ok":
        raise _refuse(outcome, approval_id, approval)
    assert approval is not None
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"), f"/reject {approval_id} {reason}".strip(),
                                       approval["service"], "rejected"))
    _refresh(approval)
    deliver(approval["reply_to"], _decided(approval), dedupe_key=f"rejected:{approval_id}")


def expire(approval_id: str) -> str:
    """Scheduled at the expiry: a still-pending approval becomes expired, and its messages say so."""
    outcome, approval = _decide(approval_id, "expired", "")
    if outcome != "ok" or approval is None:
        return outcome
    _refresh(approval)
    deliver(approval["reply_to"], _decided(approval), dedupe_key=f"expired:{approval_id}")
    return "expired"


def approve_command(cmd: Approve, who: str, reply_to: dict) -> None:
    approve(cmd.approval_id, who, reply_to)


def reject_command(cmd: Reject, who: str, reply_to: dict) -> None:
    reject(cmd.approval_id, who, cmd.reason or "", reply_to)
