"""Every kind of message on every sink, pinned by golden files (UPDATE_GOLDEN=1 rewrites them).

Files: tests/golden/messages/<kind>[.<locale>].<sink>.(txt|json). A kind whose renderer takes a locale has
one file per locale (en, zh-CN); one without a locale has none in its name. JSON is pretty-printed with
sorted keys and Chinese left readable. Each sink's file is what its pure renderer hands the platform
(nothing is sent), so a change to how anything renders shows up in review as a diff of these files.

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_messages.py   # (DOCKYARD_UPDATE_GOLDEN=1 also works)

rewrites them, and removes files no case produces any more; then read `git diff tests/golden/messages`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bots.dingtalk import cards
from bots.dingtalk import digest as dingtalk_digest
from bots.dingtalk import markdown as dingtalk
from bots.feishu import card as feishu
from bots.feishu import digest as feishu_digest
from bots.i18n import prefixed
from bots.message import Message
from bots.plaintext import to_text
from bots.sinks import digest as digests
from bots.slack import blocks as slack
from bots.wecom import digest as wecom_digest
from bots.wecom import markdown as wecom
from tests.message_examples import KINDS, LOCALES, digested

GOLDEN = Path(__file__).resolve().parent / "golden" / "messages"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN") or os.environ.get("DOCKYARD_UPDATE_GOLDEN"))
PREFIX = "[Dockyard]"  # DOCKYARD_MESSAGE_PREFIX's default, which jobs/notify.py puts on every chat platform's titles

Rendered = str | dict

# sink -> (the renderer its delivery uses, whether chat titles carry the prefix there)
SINKS: dict[str, tuple[Callable[[Message], Rendered], bool]] = {
    "console": (to_text, False),  # a terminal: no robot to satisfy, no prefix
    "slack": (lambda m: {"text": slack.fallback_text(m), "blocks": slack.blocks(m)}, True),
    "dingtalk": (dingtalk.payload, True),  # group robot and sessionWebhook replies
    "dingtalk-card": (cards.payload, True),  # the app robot's interactive card (its cardData)
    "wecom-robot": (wecom.robot_payload, True),
    "wecom-app": (wecom.app_payload, True),
    "wecom-reply": (wecom.text, True),  # the passive reply to a command sent to the app
    "feishu-bot": (feishu.bot_payload, True),
    "feishu-app": (feishu.app_payload, True),
}
# sink -> (its platform's name in the footer, its digest renderer); the console file is the plain fallback
# (digests.as_message) every sink without a digest renderer would send.
DIGEST_SINKS: dict[str, tuple[str, Callable[[digests.Digest], Rendered]]] = {
    "console": ("DingTalk", lambda d: to_text(digests.as_message(d))),
    "dingtalk": ("DingTalk", dingtalk_digest.payload),
    "dingtalk-card": ("DingTalk", lambda d: cards.digest_payload(dingtalk_digest.payload(d))),
    "wecom": ("WeCom", wecom_digest.payload),  # robot and app messages alike
    "feishu-bot": ("Feishu", feishu_digest.bot_payload),
    "feishu-app": ("Feishu", feishu_digest.app_payload),
}
# A burst of five: all in one send, and the first of two sends with one more waiting after them.
DIGEST_SHAPES = {"digest": {"part": 1, "parts": 1, "total": 5},
                 "digest-part": {"part": 1, "parts": 2, "total": 9, "later": 1}}


def _text(rendered: Rendered) -> str:
    if isinstance(rendered, str):
        return rendered + "\n"
    return json.dumps(rendered, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _file(name: str, rendered: Rendered) -> Path:
    return GOLDEN / f"{name}.{'txt' if isinstance(rendered, str) else 'json'}"


def _message_cases() -> list[tuple[str, Callable[[], Rendered]]]:
    cases = []
    for kind in KINDS:
        for locale in LOCALES if kind.localized else ("en",):
            for sink, (renderer, titled) in SINKS.items():
                def rendered(kind=kind, locale=locale, renderer=renderer, titled=titled) -> Rendered:
                    message = kind.build(locale)
                    return renderer(replace(message, title=prefixed(message.title, PREFIX)) if titled else message)
                name = ".".join((kind.name, locale, sink) if kind.localized else (kind.name, sink))
                cases.append((name, rendered))
    return cases


def _digest_cases() -> list[tuple[str, Callable[[], Rendered]]]:
    cases = []
    for shape, numbers in DIGEST_SHAPES.items():
        for sink, (platform, renderer) in DIGEST_SINKS.items():
            def rendered(numbers=numbers, platform=platform, renderer=renderer, sink=sink) -> Rendered:
                # The outbox holds messages already titled for the platform, as jobs/notify.py sends them.
                held = [m if sink == "console" else replace(m, title=prefixed(m.title, PREFIX)) for m in digested()]
                return renderer(digests.digest(held, platform, **numbers))
            cases.append((f"{shape}.{sink}", rendered))
    return cases


CASES = dict(_message_cases() + _digest_cases())


@pytest.mark.parametrize("name", list(CASES))
def test_every_message_renders_as_its_golden_file(name):
    rendered = CASES[name]()
    path, text = _file(name, rendered), _text(rendered)
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: rerun with UPDATE_GOLDEN=1 and read the new file"
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} renders differently from {path}; if the change is intended, rerun with UPDATE_GOLDEN=1 and "
        f"review `git diff {path.relative_to(GOLDEN.parent.parent.parent)}`")


def test_no_golden_file_is_left_without_its_case():
    """A kind or sink removed here takes its files with it, so no stale rendering sits in review."""
    wanted = {_file(name, make()).name for name, make in CASES.items()}
    stale = sorted(p.name for p in GOLDEN.iterdir() if p.name not in wanted) if GOLDEN.exists() else []
    if UPDATE:
        for name in stale:
            (GOLDEN / name).unlink()
        stale = []
    assert not stale, f"golden files no case produces: {stale}; rerun with UPDATE_GOLDEN=1 to remove them"


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith(("alert-hostile.", "digest"))])
def test_a_javascript_url_from_an_alert_reaches_no_platform_as_a_link(name):
    """The hostile alert's graph and Alertmanager URLs are javascript:; no sink may offer them."""
    rendered = _text(CASES[name]())
    assert "javascript:alert(document.cookie)" not in rendered
    assert "javascript:alert(1)//http" not in rendered
