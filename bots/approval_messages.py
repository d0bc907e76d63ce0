"""Pure builders of approval messages."""

from __future__ import annotations

from datetime import datetime, timezone

from bots.message import Button, Message


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M UTC")


def _image(a: dict) -> tuple[tuple[str, str], ...]:
    """The image field, for changes that bring one (a rollback or scale does not)."""
    return (("image", a["image"]),) if a.get("image") else ()


def request(a: dict) -> Message:
    """What approvers see: who wants what where, until when, with the two buttons."""
    fields = (("requested by", a["requester"]), *_image(a), ("strategy", a["strategy_text"]),
              ("expires", _when(a["expires"])))
    lines = (f"break glass: {a['break_glass']}",) if a.get("break_glass") else ()
    return Message(title=f"approval {a['id']}: {a['service']} to {a['env']}", severity="warning", fields=fields,
                   lines=lines, buttons=(Button("Approve", "approve", f"/approve {a['id']}"),
                                         Button("Reject", "reject", f"/reject {a['id']}")),
                   footer=f"someone in {', '.join(a['approver_roles'])} other than {a['requester']} may approve")


def decided(a: dict) -> Message:
    """The approval message once decided, approved, rejected or expired (no buttons left)."""
    verdict = {"approved": f"approved by {a.get('decided_by')}", "rejected": f"rejected by {a.get('decided_by')}",
               "expired": f"expired at {_when(a['expires'])} without a decision"}[a["status"]]
    lines = (f"reason: {a['reason']}",) if a.get("reason") else ()
    severity = "success" if a["status"] == "approved" else "error" if a["status"] == "rejected" else "warning"
    return Message(title=f"approval {a['id']}: {a['service']} to {a['env']} — {verdict}", severity=severity,
                   fields=(("requested by", a["requester"]), *_image(a), ("strategy", a["strategy_text"])),
                   lines=lines)


def waiting(a: dict) -> Message:
    """The requester's receipt."""
    return Message(title=f"{a['service']} to {a['env']} needs an approval: request {a['id']} sent",
                   fields=(*_image(a), ("strategy", a["strategy_text"]), ("expires", _when(a["expires"]))),
                   lines=(f"approvers: {', '.join(a['approver_roles'])} (not you)",))


def started(a: dict) -> Message:
    """The approver's receipt: the change runs now."""
    change = a["tag"] or a["strategy_text"]
    return Message(title=f"approved {a['id']}: {a['service']} {change} to {a['env']} is starting",
                   severity="success")
