"""The Slack sink: chat.postMessage, chat.update and chat.postEphemeral through the Web API."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bots.message import Message
from bots.sinks.base import SinkError
from bots.slack.blocks import MAX_BLOCKS, SECTION_TEXT, blocks, fallback_text
from core.config import Settings
from core.runtime import Runtime


def client(settings: Settings) -> WebClient:
    if settings.slack_bot_token is None:
        raise SinkError("Slack is not configured here: set SLACK_BOT_TOKEN", retryable=False)
    return WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                     timeout=10)


def _failure(exc: SlackApiError) -> SinkError:
    error = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
    status = exc.response.status_code if exc.response is not None else 0
    return SinkError(f"Slack refused: {error}", retryable=error == "ratelimited" or status >= 500)


class SlackSink:
    name = "slack"
    # Lines go in sections of at most 3,000 characters, 50 blocks in all: keep 10 for the title, fields and
    # buttons, and 200 characters a section for breaking at line ends and escaping & < >.
    text_budget = (MAX_BLOCKS - 10) * (SECTION_TEXT - 200)

    def __init__(self, settings: Settings):
        self.web = client(settings)

    @classmethod
    def from_runtime(cls, rt: Runtime) -> "SlackSink":
        return cls(rt.settings)

    def post(self, target: dict, message: Message) -> str:
        channel = target["channel"]
        try:
            if message.ephemeral and target.get("user"):
                self.web.chat_postEphemeral(channel=channel, user=target["user"], text=fallback_text(message),
                                            blocks=blocks(message))
                return f"{channel}:ephemeral"
            answer = self.web.chat_postMessage(channel=channel, text=fallback_text(message), blocks=blocks(message))
        except SlackApiError as exc:
            raise _failure(exc) from None
        return f"{answer['channel']}:{answer['ts']}"

    def edits(self, target: dict) -> bool:
        return True  # chat.update, in every channel the bot posts to

    def update(self, target: dict, ref: str, message: Message) -> str:
        channel, _, ts = ref.partition(":")
        if ts == "ephemeral":
            return self.post(target, message)
        try:
            self.web.chat_update(channel=channel, ts=ts, text=fallback_text(message), blocks=blocks(message))
        except SlackApiError as exc:
            raise _failure(exc) from None
        return ref


Sink = SlackSink
