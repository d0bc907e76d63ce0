"""The bolt app: every slash command and every Dockyard button goes through the one pipeline."""

from __future__ import annotations

import logging
import re

from slack_bolt import App

from bots.pipeline import ChatRequest, submit
from bots.slack.blocks import blocks, fallback_text
from bots.slack.sink import client
from core.runtime import Runtime


def build(rt: Runtime) -> App:
    """A bolt App verifying Slack's signature (5-minute replay window) before any listener runs."""
    settings = rt.settings
    assert settings.slack_signing_secret is not None and settings.slack_bot_token is not None
    # Bolt logs each refused request at INFO with its whole body (up to 1 MB, response_url and all);
    # blueprint.py logs the refusal in one line instead, so bolt only speaks up for warnings.
    quiet = logging.getLogger("slack_bolt")
    quiet.setLevel(logging.WARNING)
    app = App(signing_secret=settings.slack_signing_secret.get_secret_value(), client=client(settings),
              token_verification_enabled=False, request_verification_enabled=True, logger=quiet)

    @app.command(re.compile(r"^/[a-z]+$"))
    def on_command(ack, body) -> None:  # type: ignore[no-untyped-def]
        text = f"{body['command']} {body.get('text') or ''}".strip()
        outcome = submit(rt, ChatRequest("slack", body["user_id"], text, {
            "sink": "slack", "channel": body["channel_id"], "user": body["user_id"]}))
        # Slack wants the acknowledgement within 3 s: it carries the refusal, or says the job is queued.
        ack(response_type="ephemeral", text=fallback_text(outcome.message), blocks=blocks(outcome.message))

    @app.action(re.compile(r"^dockyard-"))
    def on_button(ack, body, action, respond) -> None:  # type: ignore[no-untyped-def]
        ack()
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        outcome = submit(rt, ChatRequest("slack", body["user"]["id"], action.get("value") or "", {
            "sink": "slack", "channel": channel, "user": body["user"]["id"]}))
        if not outcome.accepted:
            respond(response_type="ephemeral", replace_original=False, text=fallback_text(outcome.message),
                    blocks=blocks(outcome.message))

    return app
