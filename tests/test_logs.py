"""JSON logs: the request id follows a command into its job; secrets are masked."""

from __future__ import annotations

import io
import json
import logging

from bots.pipeline import ChatRequest, submit
from core import logs


def _capture(process: str) -> io.StringIO:
    logs.setup("INFO", process)
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)
    return stream


def test_request_id_follows_the_command_into_the_worker_log(rt, work):
    stream = _capture("worker")
    logs.request_id.set("req-follow-me")
    submit(rt, ChatRequest("console", "alice", "/status web", {"sink": "console", "conversation": "x"}))
    logs.request_id.set("")  # the worker starts from nothing and must get it from the job
    work()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    console = [line for line in lines if line["name"] == "dockyard.console"]
    assert console and console[0]["request_id"] == "req-follow-me"
    assert console[0]["process"] == "worker" and "web status" in console[0]["message"]


def test_token_shaped_strings_are_masked():
    stream = _capture("web")
    logging.getLogger("x").warning("posting with xoxb-123-456-abc to https://h/api?token=s3cret&x=1 %s",
                                   "Authorization: Bearer glpat-abcdef")
    line = stream.getvalue()
    for secret in ("xoxb-123-456-abc", "s3cret", "glpat-abcdef"):
        assert secret not in line
    assert "token=***" in line
