"""A Digest -> one WeCom markdown message (group robot or app): a line per notification, its links live. Pure.

Outside text is made inert as in markdown.py (full-width twins of the characters that open markup);
the only markup is the renderer's own: the links (targets checked by web_url and percent-encoded so
none can close early) and the code span holding the command to send. Nothing is cut here: the
outbox packs a digest to fit.
"""

from __future__ import annotations

from bots.plaintext import ICONS
from bots.sinks.digest import Digest, Entry, markdown_url
from bots.wecom import markdown


def _line(entry: Entry) -> str:
    parts = [f"{ICONS[entry.severity]} {markdown._plain(entry.text)}"]
    parts += [f"[{markdown._plain(label)}]({markdown_url(url)})" for label, url in entry.links]
    parts += [f"{markdown._plain(label)}: 发给 Dockyard / send to Dockyard `{markdown._plain(command)}`"
              for label, command in entry.commands]
    return " · ".join(parts)


def content(digest: Digest) -> str:
    return "\n".join([f"### {ICONS[digest.severity]} {markdown._plain(digest.title)}",
                      *(_line(e) for e in digest.entries),
                      f'<font color="comment">{markdown._plain(digest.footer)}</font>'])


def payload(digest: Digest) -> dict:
    """A digest as a group robot's or app's markdown message (delivery adds touser and agentid for the app)."""
    return {"msgtype": "markdown", "markdown": {"content": content(digest)}}
