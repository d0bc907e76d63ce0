"""A Digest -> one DingTalk robot markdown message: a list item per notification, its links live. Pure.

Outside text is escaped as in markdown.py; the only markup is the renderer's own: the list, the
links (labels escaped, targets checked by web_url and percent-encoded so none can close early) and
the code span holding the command to send. Nothing is cut here: the outbox packs a digest to fit.
"""

from __future__ import annotations

from bots.dingtalk import markdown
from bots.plaintext import ICONS
from bots.sinks.digest import Digest, Entry, markdown_url


def _item(entry: Entry) -> str:
    parts = [f"- {ICONS[entry.severity]} {markdown._plain(entry.text)}"]
    parts += [f"[{markdown._plain(label)}]({markdown_url(url)})" for label, url in entry.links]
    parts += [f"{markdown._plain(label)}: {markdown._code('@Dockyard ' + command)}" for label, command in entry.commands]
    return " · ".join(parts)


def payload(digest: Digest) -> dict:
    """The robot's markdown message for a digest."""
    text = "\n\n".join([f"### {ICONS[digest.severity]} {markdown._plain(digest.title)}",
                        # a blank line apart: some DingTalk clients run single-newline items together
                        "\n\n".join(_item(e) for e in digest.entries),
                        f"*{markdown._plain(digest.footer)}*"])
    return {"msgtype": "markdown", "markdown": {"title": digest.title[: markdown.TITLE], "text": text}}
