"""The bolt app: every slash command and every Dockyard button goes through the one pipeline."""

from __future__ import annotations

import logging
import re

from redis.exceptions import RedisError
from slack_bolt import App, BoltResponse

from bots.pipeline import ChatRequest, submit
from bots.slack.blocks import blocks, fallback_text
from bots.slack.sink import client
from core.runtime import Runtime

log = logging.getLogger("dockyard.slack")


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

    @app.error
    def on_error(error: Exception) -> BoltResponse:
        # Bolt answers anything that raised (its auth.test on the first request when Slack's API does not
        # answer, Redis down in submit) with an empty 500, which Slack shows as "dispatch_failed". Slack does
        # not retry a slash command, so the person gets what happened instead, and that nothing ran.
        log.warning("a Slack request failed before it was accepted: %s", type(error).__name__)
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": not_run(error)})

    return app


def not_run(error: Exception) -> str:
    """What a person reads when their Slack request could not be accepted: why, and that nothing ran."""
    if isinstance(error, RedisError):
        why = "its queue (Redis) is not answering"
    elif type(error).__module__.startswith(("urllib", "slack_sdk", "http.client", "socket")) or \
            isinstance(error, OSError):
        why = "it could not reach Slack's API to check its own token"
    else:
        why = f"it failed ({type(error).__name__})"
    return f"✖ Dockyard did not run this: {why}. Nothing was queued or changed; try again in a minute."
