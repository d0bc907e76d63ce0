"""Nothing from outside is rendered as markup or a command (issue #12, item 8).

Hostile alert labels, annotations, URLs and typed commands go through the real parser, pipeline and
renderers; each test asserts what a person would see in Slack, DingTalk or the console.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from pydantic import SecretStr

from bots import commands, grammar
from bots.alert_messages import render
from handlers.alerts import parse
from bots.dingtalk import markdown as dingtalk
from bots.message import Button, Message
from bots.pipeline import ChatRequest, submit
from bots.plaintext import to_text
from bots.slack.blocks import blocks, fallback_text
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from tests.rollout_fixtures import Chat
from deploy.local.services import Alertmanager, wait_until

HOSTILE_SLACK = "<!channel> <@U0BOSS> <https://evil.example|click here>"
HOSTILE_MARKDOWN = "![](http://evil.example/pixel) [click](http://evil.example) **loud** <font color=red>x</font>"
FINGERPRINT = "0a1b2c3d4e5f6a7b"  # Alertmanager's: 16 hex digits, here starting with a digit


def webhook(alertname: str, alerts: int = 1, *, labels: dict | None = None, annotations: dict | None = None,
            generator_url: str = "http://prometheus.example/graph?g0.expr=up", external_url: str = "") -> dict:
    """An Alertmanager webhook body (version 4) for one group of firing alerts."""
    shared = {"alertname": alertname, "service": "web", "severity": "critical", **(labels or {})}
    return {"version": "4", "groupKey": f"{{}}:{{alertname={alertname!r}}}", "status": "firing",
            "receiver": "dockyard", "groupLabels": {"alertname": alertname}, "commonLabels": shared,
            "commonAnnotations": annotations or {}, "externalURL": external_url, "truncatedAlerts": 0,
            "alerts": [{"status": "firing", "labels": {**shared, "pod": f"web-{i}"}, "annotations": annotations or {},
                        "startsAt": "2026-11-22T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": generator_url, "fingerprint": FINGERPRINT if i == 0 else f"{i:016x}"}
                       for i in range(alerts)]}


def slack_texts(message: Message) -> list[str]:
    """Everything Slack reads as mrkdwn: the notification text and every block's text."""
    texts = [fallback_text(message)]
    for block in blocks(message):
        objects = ([block["text"]] if "text" in block else []) + block.get("fields", [])
        objects += [e for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
        texts += [o["text"] for o in objects]
    return texts


def seen_in_dingtalk(markdown: str) -> str:
    """The characters a reader sees: markdown shows a backslash-escaped punctuation mark as the mark."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def dingtalk_text(body: dict) -> str:
    return (body.get("markdown") or body.get("actionCard"))["text"]


def silence_command(message: Message) -> commands.Command | None:
    """What pressing the message's Silence button would run, read by the one grammar."""
    [button] = [b for b in message.buttons if b.kind == "silence"] or [None]
    return grammar.parse(button.value) if button else None


# Slack: &, < and > escaped in the notification text and in every block


def test_a_refusal_echoing_typed_mentions_and_links_shows_them_literally_in_slack(rt):
    refusal = submit(rt, ChatRequest("slack", "U01DAVE", f"/status '{HOSTILE_SLACK}'")).message
    assert not refusal.title.startswith("on it")
    assert fallback_text(refusal).startswith("✖ '&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;https://evil.example|click")
    for text in slack_texts(refusal):
        assert "<" not in text and ">" not in text, text  # no mention, no link, no date token


def test_alert_labels_annotations_and_log_lines_cannot_ping_or_link_in_slack():
    group = parse(webhook(f"DiskFull{HOSTILE_SLACK}", labels={"namespace": "<!here>", "pod": "<@U0BOSS>"},
                          annotations={"summary": HOSTILE_SLACK, "description": "a & b <!everyone>"}))
    message = render(group)
    assert "&lt;!channel&gt;" in fallback_text(message) and "<!channel>" not in fallback_text(message)
    texts = slack_texts(message)
    assert all("<" not in t and ">" not in t for t in texts), texts
    assert any("a &amp; b &lt;!everyone&gt;" in t for t in texts)
    logs = Message(title="web (test) logs", lines=("── web-1", "GET / 500 <!subteam^S0ONCALL> & retry"))
    assert all("<" not in t for t in slack_texts(logs))
    # Plain words are not turned into mentions or channel links either.
    mrkdwn = [o for b in blocks(message) for o in ([b["text"]] if "text" in b else []) + b.get("fields", [])]
    assert mrkdwn and all(o.get("verbatim") is True for o in mrkdwn)


# DingTalk: no outside text becomes an image, link, heading, emphasis or HTML


def test_a_refusal_echoing_an_image_pixel_is_not_an_image_in_dingtalk(rt):
    refusal = submit(rt, ChatRequest("dingtalk", "dave01", "/status ![](http://evil.example/pixel)")).message
    markdown = dingtalk_text(dingtalk.payload(refusal))
    assert "![](" not in markdown and "](http" not in markdown
    assert "'![](http://evil.example/pixel)' is not a service name" in seen_in_dingtalk(markdown)


def test_alert_text_is_shown_as_typed_not_as_markdown_in_dingtalk():
    group = parse(webhook("DiskFull_*now*", labels={"pod": "# not a heading"},
                          annotations={"summary": HOSTILE_MARKDOWN,
                                       "description": "line one\n# heading\n- item\n1. first\n===\n> quote"}))
    body = dingtalk.payload(render(group))
    markdown = dingtalk_text(body)
    assert "![](" not in markdown and "](http" not in markdown
    unescaped = re.sub(r"\\.", "", markdown)  # what markdown would still act on
    for markup in ("![", "](", "<font", "</", "**loud", "*now"):
        assert markup not in unescaped, markup
    lines = markdown.splitlines()
    assert [line for line in lines if line.startswith("#")] == [lines[0]]  # only Dockyard's own heading
    for line in lines:  # inside the quote, no outside line starts a heading, list, rule or nested quote
        assert not re.match(r">\s*(#|[-+=>]|\d+[.)])", line), line
    seen = seen_in_dingtalk(markdown)
    assert HOSTILE_MARKDOWN in seen and "DiskFull_*now*" in seen and "> # heading" in seen


# Buttons: the Silence button's command silences exactly what the message is about


@pytest.mark.parametrize("alertname,alerts,expected", [
    ("HighErrorRate", 2, "HighErrorRate"),  # the usual name: the whole group, by name
    ("web 30d", 1, FINGERPRINT),  # would read as "silence web for 30 days": the one alert, by fingerprint
    ("web 30d", 2, None),  # no exact form for several alerts: no button (Alertmanager's own link remains)
    ('Disk" 30d "x', 1, FINGERPRINT),  # quotes cannot reopen the command either
    ("list", 1, FINGERPRINT),  # a grammar keyword, not an alert name, to /silence
    ("expire", 2, None),
])
def test_the_silence_button_silences_exactly_the_alert_for_one_hour(alertname, alerts, expected):
    command = silence_command(render(parse(webhook(alertname, alerts))))
    if expected is None:
        assert command is None
    else:
        assert command == commands.Silence(matcher=expected, duration_seconds=3600)


@pytest.fixture
def alertmanager_webhooks(tmp_path):
    """A real Alertmanager whose webhooks land in a list, exactly as it sends them."""
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    manager = Alertmanager(tmp_path / "am", f"http://127.0.0.1:{server.server_port}/", "unused").start()
    yield manager, received
    manager.stop()
    server.shutdown()


def test_pressing_silence_on_an_alert_named_web_30d_silences_that_alert_for_an_hour(rt, alertmanager_webhooks):
    am, received = alertmanager_webhooks
    labels = {"alertname": "web 30d", "service": "web", "severity": "critical", "pod": "web-1"}
    now = datetime.now(timezone.utc)
    assert requests.post(f"{am.url}/api/v2/alerts", timeout=5, json=[{
        "labels": labels, "annotations": {"summary": "web is slow"},
        "startsAt": (now - timedelta(minutes=5)).isoformat()}]).status_code == 200
    wait_until(lambda: received, 20, "Alertmanager's webhook")
    message = render(parse(received[0]))
    [button] = [b for b in message.buttons if b.kind == "silence"]

    settings = Settings(**{**rt.settings.model_dump(), "alertmanager_url": am.url,
                           "alertmanager_webhook_token": SecretStr("unused")})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    chat = Chat(live)
    [reply] = chat("dave", button.value)  # what the button runs, as the person who pressed it
    assert reply["text"].startswith("✔ silenced "), reply["text"]
    [silence] = [s for s in requests.get(f"{am.url}/api/v2/silences", timeout=5).json()
                 if s["id"] == reply["message"]["fields"][0][1]]
    assert {m["name"]: m["value"] for m in silence["matchers"]} == labels  # that alert, not alertname=web
    assert all(m["isEqual"] and not m["isRegex"] for m in silence["matchers"])
    starts, ends = (datetime.fromisoformat(silence[k].replace("Z", "+00:00")) for k in ("startsAt", "endsAt"))
    assert timedelta(minutes=59) <= ends - starts <= timedelta(hours=1)  # the button's hour, not 30 days

    # Pressed again once the alert is gone, the fingerprint names nothing: said so, nothing silenced.
    gone = "f" * 16
    [refusal] = chat("dave", f"/silence {gone} 1h")
    assert f"no alert with fingerprint {gone}" in refusal["text"], refusal["text"]
    assert not [s for s in requests.get(f"{am.url}/api/v2/silences", timeout=5).json()
                if any(m["value"] == gone for m in s["matchers"])]


# Links: only http(s) from outside becomes a button


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "JavaScript:alert(1)",
                                 " javascript:alert(1)", "java\tscript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox", "//evil.example/x"])
def test_links_from_alertmanager_that_are_not_http_become_no_button(url):
    message = render(parse(webhook("HighErrorRate", generator_url=url, external_url=url,
                                   annotations={"summary": "5% of requests fail"})))
    assert [b.label for b in message.buttons] == ["Silence 1h"]  # the text stays, the links go
    assert "5% of requests fail" in message.lines
    forged = Message(title="x", buttons=(Button("Graph", "link", "", url), Button("Ok", "link", "", "https://ok")))
    slack_urls = [e.get("url") for b in blocks(forged) if b["type"] == "actions" for e in b["elements"]]
    assert slack_urls == ["https://ok"]
    card = dingtalk.payload(forged)["actionCard"]
    assert [b["actionURL"] for b in card["btns"]] == ["https://ok"]
    assert url.strip() not in to_text(forged)


def test_http_links_from_alertmanager_still_become_buttons():
    message = render(parse(webhook("HighErrorRate", generator_url="https://prom.example/graph?g0.expr=up",
                                   external_url="http://alertmanager.example:9093")))
    assert [(b.label, b.url) for b in message.buttons if b.url] == [
        ("Graph", "https://prom.example/graph?g0.expr=up"), ("Alertmanager", "http://alertmanager.example:9093")]


# The console: a terminal obeys control characters, so outside text cannot carry them


def test_terminal_escapes_in_alert_text_are_shown_not_obeyed_on_the_console():
    group = parse(webhook("DiskFull", annotations={"summary": "ok\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil\x1b\\x"},
                          labels={"pod": "web-1\r✔ approved"}))
    text = to_text(render(group))
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "ok\\x1b[2J" in text  # visible, so the reader sees something odd was sent
