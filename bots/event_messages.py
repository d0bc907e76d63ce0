"""/events: the Kubernetes events kept for a service, one line each, as the seed teams' event pages showed
them (level, message, reason, reporter, source host, last seen) with the count. Pure."""

from __future__ import annotations

from datetime import datetime, timezone

from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Message
from core import durations

SHOWN = 50  # lines in one message; the newest are kept


def latest(events: list[dict]) -> list[dict]:
    """Each event once, as last seen: the watcher keeps a row per count, and a repeat replaces its earlier
    rows (in the place of the newest). Rows without a uid (kept before uids were) stay as they are."""
    by_key: dict[object, dict] = {}
    for index, event in enumerate(events):
        key = event.get("uid") or index
        by_key.pop(key, None)
        by_key[key] = event
    return list(by_key.values())


def level_of(event: dict) -> str:
    """warning or normal (rows kept before levels were are warnings: nothing else was kept then)."""
    return "normal" if event.get("type") == "Normal" else "warning"


def matches(event: dict, grep: str) -> bool:
    """Does the keyword appear (in any case) in its reason, message, object, reporter or host?"""
    if not grep:
        return True
    text = " ".join(str(event.get(k) or "") for k in ("reason", "message", "object", "reporter", "host"))
    return grep.casefold() in text.casefold()


def _when(event: dict) -> tuple[datetime, int]:
    """When it was last seen, for ordering. Timestamps have whole seconds, so events of the same second are
    ordered by the apiserver's resourceVersion (etcd's revision: later writes are larger); a list returns them
    by name, not by time. Rows kept without one keep the order the watcher kept them in."""
    rv = str(event.get("rv") or "")
    revision = int(rv) if rv.isdigit() else 0
    try:
        at = datetime.fromisoformat(str(event.get("at") or "").replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc), revision
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)), revision


def select(events: list[dict], level: str = "all", grep: str = "") -> list[dict]:
    """The events /events shows: each once, of the level asked for (warning, normal, all), matching `grep`,
    by the time they were last seen."""
    return sorted((e for e in latest(events) if level in ("all", level_of(e)) and matches(e, grep)), key=_when)


def event_line(event: dict, locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> str:
    """'2026-12-04 19:41:07 CST  Warning  Unhealthy ×3  web-7d9f-x2x (test): Readiness probe failed
    (reported by kubelet on node-1)'."""
    count = event.get("count") or 1
    reason = (event.get("reason") or "?") + (f" ×{count}" if count > 1 else "")
    at = ", ".join(x for x in (event.get("env"), event.get("cluster")) if x)  # (prod, east)
    where = (event.get("object") or "?") + (f" ({at})" if at else "")
    reporter, host = event.get("reporter") or "", event.get("host") or ""
    if reporter and host:
        source = say(locale, " (reported by {reporter} on {host})", reporter=reporter, host=host)
    elif reporter or host:
        source = say(locale, " (reported by {reporter})", reporter=reporter or host)
    else:
        source = ""
    level = say(locale, "Warning" if level_of(event) == "warning" else "Normal")
    return f"{moment(event.get('at'), zone) or '?'}  {level}  {reason}  {where}: {event.get('message') or ''}{source}"


# Each level's title, whole, so a locale can word it as its grammar needs.
TITLES = {"all": ("{name}: {count} event(s) in the last {span}{matching}",
                  "no events for {name} in the last {span}{matching}"),
          "warning": ("{name}: {count} warning(s) in the last {span}{matching}",
                      "no warnings for {name} in the last {span}{matching}"),
          "normal": ("{name}: {count} Normal event(s) in the last {span}{matching}",
                     "no Normal events for {name} in the last {span}{matching}")}


def _newest_that_fit(lines: list[str], budget: int | None) -> list[str]:
    """The last of `lines` whose UTF-8 bytes (a newline each) fit `budget`; all of them without one."""
    if budget is None:
        return lines
    kept: list[str] = []
    for line in reversed(lines):
        budget -= len(line.encode()) + 1
        if budget < 0:
            break
        kept.append(line)
    return kept[::-1]


def events_message(name: str, since_seconds: int, events: list[dict], level: str = "all", grep: str = "",
                   keeps_normal: bool = False, locale: str = DEFAULT_LOCALE, zone: str = "UTC",
                   budget: int | None = None) -> Message:
    """/events: the events kept for a service in the window, of a level and matching a keyword, newest last.

    `budget` is what the answering sink carries in one message (bytes): the newest lines that fit are
    shown and the footer says how many older ones were not. Should a sink still have to cut, it
    cuts from the start (the oldest). Asked for Normal events of a service that keeps only warnings,
    it says how to keep them."""
    span = durations.human(since_seconds)
    shown = select(events, level, grep)
    matching = say(locale, " matching {grep}", grep=repr(grep)) if grep else ""
    some, none = TITLES[level]
    hint = (say(locale, "only Warning events are kept for {name}: set `events: all` on it in the catalog to "
                        "keep Normal ones too", name=name),) if level == "normal" and not keeps_normal else ()
    if not shown:
        return Message(title=say(locale, none, name=name, span=span, matching=matching), lines=hint)
    room = None if budget is None else budget - sum(len(h.encode()) + 1 for h in hint) - 80  # 80: the "older" line
    lines = _newest_that_fit([event_line(e, locale, zone) for e in shown[-SHOWN:]], room)
    # in the footer, which no sink cuts: as a first line, a sink's own cut would drop it first and count it
    # as one of the events it left out
    more = say(locale, "{count} older not shown", count=len(shown) - len(lines)) if len(lines) < len(shown) else ""
    return Message(title=say(locale, some, name=name, count=len(shown), span=span, matching=matching),
                   lines=(*lines, *hint), footer=more, cut_from="start", locale=locale)
