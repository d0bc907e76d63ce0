"""What a digest says: many messages merged into one send when a platform's quota forces it. Pure.

A digest line keeps what a reader acts on: the message's headline, its links (graph, Alertmanager,
runbook) and the commands to type (silence, approve, reject); the first message of a digest says
how many notifications the digest holds and over how many messages. Each sink renders a Digest in
its own markup (bots/<platform>/digest.py); `as_message` is the plain fallback for one that does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from bots.i18n import DEFAULT_LOCALE, say
from bots.message import SEVERITY_ORDER, Button, Message, Severity, web_url
from bots.plaintext import ICONS

SUMMARY_CHARS = 300  # a digest line is a headline, not the message: the rest is one command away
MAX_LINKS = 4  # an alert has two (graph, Alertmanager); more would drown the line
MAX_URL = 1000  # a longer URL is left out rather than cut into a broken link
# Commands a reader of a burst still needs: quieting it, and an approval that would otherwise wait.
KEPT_COMMANDS = ("silence", "approve", "reject")


@dataclass(frozen=True)
class Entry:
    """One merged message: severity, one line of plain text, its links and the commands to type."""

    severity: Severity
    text: str
    links: tuple[tuple[str, str], ...] = ()  # (label, http(s) URL)
    commands: tuple[tuple[str, str], ...] = ()  # (label, chat command)


@dataclass(frozen=True)
class Digest:
    """Part `part` of `parts` sends planned together, `total` notifications in all; `later` wait after them."""

    entries: tuple[Entry, ...]
    platform: str
    part: int = 1
    parts: int = 1
    total: int = 0
    later: int = 0
    prefix: str = ""  # the destination's prefix (a keyword-secured DingTalk robot refuses a title without it)
    locale: str = DEFAULT_LOCALE  # the destination channel's, as its messages carry it (jobs.notify.titled)

    @property
    def severity(self) -> Severity:
        """As urgent as the most urgent message it carries."""
        return max((e.severity for e in self.entries), key=SEVERITY_ORDER.index, default="info")

    @property
    def title(self) -> str:
        total, locale = self.total or len(self.entries), self.locale
        if self.parts <= 1:
            text = say(locale, "{total} notifications", total=total)
        elif self.part == 1:
            text = say(locale, "{total} notifications in {parts} messages (1/{parts})", total=total, parts=self.parts)
        else:
            text = say(locale, "{count} of {total} notifications ({part}/{parts})", count=len(self.entries),
                       total=total, part=self.part, parts=self.parts)
        return f"{self.prefix} {text}" if self.prefix else text

    @property
    def footer(self) -> str:
        more = ""
        if self.later and self.part == 1:
            more = say(self.locale, "; {count} more follows when it allows" if self.later == 1 else
                       "; {count} more follow when it allows", count=self.later)
        return say(self.locale, "merged to stay within {platform}'s quota{more}", platform=self.platform, more=more)


def _link(button: Button) -> tuple[str, str] | None:
    url = web_url(button.url)  # never a javascript: or data: link
    return (button.label, url) if url and len(url) <= MAX_URL else None


def entry(message: Message) -> Entry:
    """A message as one digest line: title, fields and first line; its links and kept commands."""
    fields = "; ".join(f"{k}: {v}" for k, v in message.fields)
    first = message.lines[0] if message.lines else ""
    text = " — ".join(p for p in (message.title, fields, first) if p)
    text = " ".join(text.splitlines())
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1] + "…"
    links = tuple(link for link in (_link(b) for b in message.buttons if b.url) if link)[:MAX_LINKS]
    commands = tuple((b.label, b.value) for b in message.buttons
                     if b.value and not b.url and b.kind in KEPT_COMMANDS)
    return Entry(message.severity, text, links, commands)


def digest(messages: list[Message], platform: str, part: int = 1, parts: int = 1, total: int = 0,
           later: int = 0, prefix: str = "") -> Digest:
    """The digest of `messages`, part `part` of `parts` holding `total` notifications in all."""
    locale = messages[0].locale if messages else DEFAULT_LOCALE  # one destination: one channel, one language
    return Digest(tuple(entry(m) for m in messages), platform, part, parts, total or len(messages), later, prefix,
                  locale)


def as_message(d: Digest) -> Message:
    """The digest as a plain Message, for a sink without a digest renderer: links and commands as text."""
    def line(e: Entry) -> str:
        extras = [f"{label}: {url}" for label, url in e.links] + [f"{label}: {cmd}" for label, cmd in e.commands]
        return " · ".join([f"{ICONS[e.severity]} {e.text}", *extras])
    return Message(title=d.title, severity=d.severity, lines=tuple(line(e) for e in d.entries), footer=d.footer)


# Characters that end or bend a markdown link's target, percent-encoded: to a web server the address
# is the same (RFC 3986 holds an encoded unreserved character equal; the rest is query punctuation),
# and no URL from outside can close the link early and go on as markup.
LINK_UNSAFE = str.maketrans({c: f"%{ord(c):02X}" for c in "()<>[]`\"'\\|*_~{}"})


def markdown_url(url: str) -> str:
    """An http(s) URL (already checked by web_url) as a markdown link target."""
    return url.translate(LINK_UNSAFE)


# The widest numbers a title and footer can hold, for sizing a digest before its part is known: the
# first part (it says the total and what waits) and a later one (it says its share) are worded apart.
WIDEST = ({"part": 1, "parts": 9999, "total": 99999, "later": 99999},
          {"part": 9999, "parts": 9999, "total": 99999, "later": 99999})
