"""Pure builders of approval messages, in the channel's language, expiry dated in its time zone."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, moment, phrase, say
from bots.message import Button, Message


def _image(a: dict, locale: str) -> tuple[tuple[str, str], ...]:
    """The image field, for changes that bring one (a rollback or scale does not)."""
    return ((say(locale, "image"), a["image"]),) if a.get("image") else ()


def request(a: dict, locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """What approvers see: who wants what where, until when, with the two buttons."""
    fields = ((say(locale, "requested by"), a["requester"]), *_image(a, locale),
              (say(locale, "strategy"), phrase(locale, a["strategy_text"])), (say(locale, "expires"), moment(a["expires"], zone)))
    lines = (say(locale, "break glass: {reason}", reason=a["break_glass"]),) if a.get("break_glass") else ()
    return Message(title=say(locale, "approval {id}: {service} to {env}", id=a["id"], service=a["service"],
                             env=a["env"]), severity="warning", fields=fields, lines=lines,
                   buttons=(Button(say(locale, "Approve"), "approve", f"/approve {a['id']}"),
                            Button(say(locale, "Reject"), "reject", f"/reject {a['id']}")),
                   footer=say(locale, "someone in {roles} other than {requester} may approve",
                              roles=", ".join(a["approver_roles"]), requester=a["requester"]))


def decided(a: dict, locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """The approval message once decided, approved, rejected or expired (no buttons left)."""
    verdict = {"approved": lambda: say(locale, "approved by {who}", who=a.get("decided_by")),
               "rejected": lambda: say(locale, "rejected by {who}", who=a.get("decided_by")),
               "expired": lambda: say(locale, "expired at {time} without a decision",
                                      time=moment(a["expires"], zone))}[a["status"]]()
    lines = (say(locale, "reason: {reason}", reason=a["reason"]),) if a.get("reason") else ()
    severity = "success" if a["status"] == "approved" else "error" if a["status"] == "rejected" else "warning"
    return Message(title=say(locale, "approval {id}: {service} to {env} — {verdict}", id=a["id"],
                             service=a["service"], env=a["env"], verdict=verdict), severity=severity,
                   fields=((say(locale, "requested by"), a["requester"]), *_image(a, locale),
                           (say(locale, "strategy"), phrase(locale, a["strategy_text"]))),
                   lines=lines)


def waiting(a: dict, locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """The requester's receipt."""
    return Message(title=say(locale, "{service} to {env} needs an approval: request {id} sent", service=a["service"],
                             env=a["env"], id=a["id"]),
                   fields=(*_image(a, locale), (say(locale, "strategy"), phrase(locale, a["strategy_text"])),
                           (say(locale, "expires"), moment(a["expires"], zone))),
                   lines=(say(locale, "approvers: {roles} (not you)", roles=", ".join(a["approver_roles"])),))


def started(a: dict, locale: str = DEFAULT_LOCALE) -> Message:
    """The approver's receipt: the change runs now."""
    change = a["tag"] or phrase(locale, a["strategy_text"])
    return Message(title=say(locale, "approved {id}: {service} {change} to {env} is starting", id=a["id"],
                             service=a["service"], change=change, env=a["env"]), severity="success")
