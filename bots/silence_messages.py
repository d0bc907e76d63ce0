"""Messages about silences: Alertmanager's, and holds on Dockyard's own health messages. Pure."""

from __future__ import annotations

from datetime import datetime

from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Button, Message


def _until(ends: datetime | str, zone: str) -> str:
    return moment(ends, zone, seconds=False)


def health_held(service: str, ends: datetime, zone: str = "UTC", locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "health messages for {service} held until {until}", service=service,
                             until=_until(ends, zone)), severity="success",
                   lines=(say(locale, "incidents are still counted; the message catches up when the hold ends"),))


def silenced(matcher: str, ends: datetime, silence_id: str, who: str, zone: str = "UTC",
             locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "silenced {matcher} until {until}", matcher=matcher, until=_until(ends, zone)),
                   severity="success", fields=((say(locale, "silence"), silence_id), (say(locale, "by"), who)),
                   buttons=(Button(say(locale, "Expire"), "silence", f"/silence expire {silence_id}"),))


def listing(active: list[dict], zone: str = "UTC", locale: str = DEFAULT_LOCALE) -> Message:
    """Alertmanager's active silences, one line each: id, matchers, end (in `zone`), author."""
    lines = tuple(say(locale, "{id}  {matchers}  until {until}  by {who}", id=s["id"],
                      matchers=" ".join(m["name"] + "=" + m["value"] for m in s["matchers"]),
                      until=_until(s["endsAt"], zone), who=s.get("createdBy", "?")) for s in active)
    return Message(title=say(locale, "{count} active silence(s)", count=len(active)),
                   lines=lines or (say(locale, "none"),))


def expired(silence_id: str, who: str, locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "silence {silence_id} expired by {who}", silence_id=silence_id, who=who),
                   severity="success")
