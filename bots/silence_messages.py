"""Messages about silences: Alertmanager's, and holds on Dockyard's own health messages. Pure."""

from __future__ import annotations

from datetime import datetime

from bots.i18n import moment
from bots.message import Button, Message


def _until(ends: datetime | str, zone: str) -> str:
    return moment(ends, zone, seconds=False)


def health_held(service: str, ends: datetime, zone: str = "UTC") -> Message:
    return Message(title=f"health messages for {service} held until {_until(ends, zone)}", severity="success",
                   lines=("incidents are still counted; the message catches up when the hold ends",))


def silenced(matcher: str, ends: datetime, silence_id: str, who: str, zone: str = "UTC") -> Message:
    return Message(title=f"silenced {matcher} until {_until(ends, zone)}", severity="success",
                   fields=(("silence", silence_id), ("by", who)),
                   buttons=(Button("Expire", "silence", f"/silence expire {silence_id}"),))


def listing(active: list[dict], zone: str = "UTC") -> Message:
    """Alertmanager's active silences, one line each: id, matchers, end (in `zone`), author."""
    lines = tuple(f"{s['id']}  {' '.join(m['name'] + '=' + m['value'] for m in s['matchers'])}  until "
                  f"{_until(s['endsAt'], zone)}  by {s.get('createdBy', '?')}" for s in active)
    return Message(title=f"{len(active)} active silence(s)", lines=lines or ("none",))


def expired(silence_id: str, who: str) -> Message:
    return Message(title=f"silence {silence_id} expired by {who}", severity="success")
