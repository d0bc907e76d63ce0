"""GET/POST /actions/<token>: signed links from chat cards; GET asks, POST runs the command once."""

from __future__ import annotations

import hashlib
import time
from html import escape

from flask import Blueprint, current_app

from bots import links
from bots.pipeline import ChatRequest, submit
from bots.plaintext import to_text

bp = Blueprint("links", __name__)
PAGE = """<!doctype html><meta charset="utf-8"><title>Dockyard</title>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto">{body}</body>"""


def _secret() -> str | None:
    secret = current_app.extensions["dockyard"].settings.link_secret
    return secret.get_secret_value() if secret else None


def _page(body: str, status: int = 200):
    return PAGE.format(body=body), status, {"Content-Type": "text/html; charset=utf-8"}


def _verified(token: str):
    """(link data, None), or (None, the page that says why not)."""
    secret = _secret()
    if secret is None:
        return None, _page("<p>Action links are off here: set DOCKYARD_LINK_SECRET.</p>", 503)
    try:
        return links.read(secret, token), None
    except ValueError as exc:
        return None, _page(f"<p>{escape(str(exc))}</p>", 403)


@bp.get("/actions/<token>")
def confirm(token: str):
    """Show what the link will do; nothing runs until the form is posted (link previews must not act)."""
    data, refusal = _verified(token)
    if refusal:
        return refusal
    return _page(f"<p>Run <code>{escape(data['c'])}</code> as {escape(data['ch'])} user {escape(data['u'])}?</p>"
                 f'<form method="post"><button type="submit">Run it</button></form>')


@bp.post("/actions/<token>")
def run(token: str):
    """Run the link's command through the pipeline, once."""
    rt = current_app.extensions["dockyard"]
    data, refusal = _verified(token)
    if refusal:
        return refusal
    used = f"dockyard:link-used:{hashlib.sha256(token.encode()).hexdigest()}"
    if not rt.redis.set(used, "1", nx=True, ex=max(60, int(data["exp"] - time.time()) + 60)):
        return _page("<p>This link was already used.</p>", 409)
    # Where the answer goes is part of the signed token; a query parameter would let anyone redirect it.
    reply_to = data.get("r") or {"sink": "console"}
    outcome = submit(rt, ChatRequest(data["ch"], data["u"], data["c"], reply_to))
    return _page(f"<pre>{escape(to_text(outcome.message))}</pre><p>The answer also goes to the channel.</p>",
                 200 if outcome.accepted else 403)
