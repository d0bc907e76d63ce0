"""Bursts within a platform's quota: digests keep each alert group's links and silence hint, say how many
they hold, and /metrics counts what reached the platform and what still waits. Real Redis, real RQ
workers and scheduler, stand-ins that check signatures, sizes and rate limits."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from rq import Queue

from bots.dingtalk.outbox import QUOTA as DINGTALK
from bots.feishu.delivery import APP as FEISHU_APP, ROBOT as FEISHU
from bots.message import Button, Message
from bots.sinks import outbox
from bots.wecom.delivery import APP as WECOM_APP, ROBOT as WECOM
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from handlers.app import create_app
from rules import load_rules
from tests.fakes.alertmanager import one_alert_group
from tests.fakes.dingtalk_api import DingTalkAPI
from tests.fakes.feishu_api import FeishuAPI
from tests.fakes.wecom_api import WeComAPI

ROOT = Path(__file__).resolve().parent.parent
AM_TOKEN, AM_URL = "am-webhook-token", "http://alertmanager.local:9093"
DING_TOKEN, DING_SECRET = "tok-storefront", "SECrobot"
WECOM_KEY, WECOM_AES = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
FEISHU_TOKEN, FEISHU_SECRET = "bot-token-1", "bot-secret-1"
FIRST = re.compile(r"(\d+) notifications(?: in (\d+) messages \(1/(\d+)\))?")
ALONE = re.compile(r"\[FIRING:1\] (Latency\d+)")
LATER = re.compile(r"(\d+) of (\d+) notifications \((\d+)/(\d+)\)")


def graph(i: int) -> str:
    return f"http://prometheus.local/graph?g0.expr=rate(errors[5m])&i={i}"


def graph_in_markdown(i: int) -> str:
    """The same address, its ( ) [ ] percent-encoded so the markdown link cannot end early."""
    return f"http://prometheus.local/graph?g0.expr=rate%28errors%5B5m%5D%29&i={i}"


def webhook(i: int) -> dict:
    """Alertmanager's webhook (version 4) for one group of one firing alert."""
    return one_alert_group(f"Latency{i:03d}", f"web-{i:03d}", i, AM_URL, graph(i), starts_at="2024-05-01T08:00:00Z")


def _feishu_views(api: FeishuAPI) -> list[tuple[str, list[str]]]:
    """Each bot card as (title, one line per notification: its text, then its url buttons as [label](url))."""
    views = []
    for card in api.cards("bot"):
        lines, elements = [], card["elements"]
        for k, element in enumerate(elements):
            if element["tag"] == "div" and "text" in element:
                after = elements[k + 1] if k + 1 < len(elements) and elements[k + 1]["tag"] == "action" else None
                links = [f"[{b['text']['content']}]({b['url']})" for b in (after or {}).get("actions", []) if b.get("url")]
                lines.append(" ".join([element["text"]["content"], *links]))
        views.append((card["header"]["title"]["content"], lines))
    return views


def _text_views(texts: list[str]) -> list[tuple[str, list[str]]]:
    return [(t.splitlines()[0].replace("\\", ""), [ln for ln in t.splitlines()[1:] if "Latency" in ln]) for t in texts]


PLATFORMS = {
    # name: (alert groups in the burst, whether the minute's quota is already used when they arrive)
    "dingtalk": (200, True),  # 20 KB a message: the 200 fit in a few digests once the minute frees
    "wecom": (150, True),  # 4,096 bytes a message: 150 lines need 17 of the minute's 20
    "feishu": (200, False),  # 5 a second: the first second takes what 5 cards hold, the next the rest
}


@pytest.fixture(params=list(PLATFORMS))
def platform(request, rt, tmp_path, work):
    name = request.param
    if name == "dingtalk":
        api = DingTalkAPI({DING_TOKEN: DING_SECRET}).start()
        settings = {"dingtalk_robot_secret": SecretStr(DING_SECRET),
                    "dingtalk_robots": {"storefront": SecretStr(f"{api.url}/robot/send?access_token={DING_TOKEN}")}}
        quota, window, link, hint = DINGTALK, DING_TOKEN, graph_in_markdown, "`@Dockyard /silence {name} 1h`"
        received = lambda: [c for c in api.calls if c["kind"] == "robot"]  # noqa: E731
        views = lambda: _text_views(api.robot_texts())  # noqa: E731
    elif name == "wecom":
        api = WeComAPI({WECOM_KEY}, "ww1436e0e65a779aee", "1000002", "app-secret", "token", WECOM_AES).start()
        settings = {"wecom_robots": {"storefront": SecretStr(f"{api.url}/cgi-bin/webhook/send?key={WECOM_KEY}")}}
        quota, window, link, hint = WECOM, f"robot:{WECOM_KEY}", graph_in_markdown, "send to Dockyard `/silence {name} 1h`"
        received = api.robot_texts
        views = lambda: _text_views(api.robot_texts())  # noqa: E731
    else:
        api = FeishuAPI({FEISHU_TOKEN: FEISHU_SECRET}, ("cli_app", "app-secret"), set()).start()
        settings = {"feishu_robot_secret": SecretStr(FEISHU_SECRET),
                    "feishu_robots": {"storefront": SecretStr(f"{api.url}/open-apis/bot/v2/hook/{FEISHU_TOKEN}")}}
        quota, window, link, hint = FEISHU, f"bot:{FEISHU_TOKEN}", graph, "reply @Dockyard /silence {name} 1h"
        received = lambda: api.cards("bot")  # noqa: E731
        views = lambda: _feishu_views(api)  # noqa: E731
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    routing = yaml.safe_load((rules / "routing.yaml").read_text())
    routing["channels"]["storefront"] = {"sink": name, "robot": "storefront"}
    (rules / "routing.yaml").write_text(yaml.safe_dump(routing))
    live = runtime.install(Runtime(settings=Settings(**{**rt.settings.model_dump(), **settings,
                                                        "alertmanager_webhook_token": SecretStr(AM_TOKEN)}),
                                   rules=load_rules(rules)))
    yield SimpleNamespace(name=name, api=api, rt=live, client=create_app(rt=live).test_client(), work=work,
                          quota=quota, window=window, link=link, hint=hint, received=received, views=views,
                          groups=PLATFORMS[name][0], occupied=PLATFORMS[name][1])
    api.stop()


def scrape(client) -> dict[tuple[str, str], float]:
    """/metrics as {(sample name, sink): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, s.labels.get("sink", "")): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def occupy_the_minute(p) -> None:
    """Earlier sends used the minute's whole quota."""
    count, _ = p.quota.limits[0]
    now = time.time()
    p.rt.redis.zadd(outbox.sent_key(p.name, "storefront"), {f"earlier-{n}": now for n in range(count)})
    p.api.sent_at[p.window] = [now] * count


def let_time_pass(p, seconds: float) -> None:
    """Rather than wait: every send so far moves `seconds` back, and the flushes due by then run now."""
    key = outbox.sent_key(p.name, "storefront")
    for member, score in p.rt.redis.zrange(key, 0, -1, withscores=True):
        p.rt.redis.zadd(key, {member: score - seconds})
    p.api.sent_at[p.window] = [t - seconds for t in p.api.sent_at.get(p.window, [])]
    scheduled = Queue("outbox", connection=p.rt.redis).scheduled_job_registry
    for job_id in scheduled.get_job_ids():
        scheduled.requeue(job_id)


def let_the_minute_pass(p) -> None:
    let_time_pass(p, p.quota.limits[0][1])


def run_scheduled_flushes(p, rounds: int = 40) -> None:
    """Let each paced flush come back (a pace's worth of time passing at once) until the outbox is empty."""
    for _ in range(rounds):
        if not p.rt.redis.llen(outbox.outbox_key(p.name, "storefront")):
            return
        let_time_pass(p, p.quota.pace)
        p.work()


def test_a_burst_of_alert_groups_arrives_in_digests_that_keep_links_and_silence(platform):
    p = platform
    for i in range(p.groups):
        answer = p.client.post("/webhooks/alertmanager", json=webhook(i), headers={"Authorization": f"Bearer {AM_TOKEN}"})
        assert answer.status_code == 202
    if p.occupied:
        occupy_the_minute(p)
    p.work()  # every group's job, then the flush they scheduled

    waiting = p.rt.redis.llen(outbox.outbox_key(p.name, "storefront"))
    before = scrape(p.client)
    assert waiting > 0 and before[("dockyard_outbox_backlog", p.name)] == waiting
    assert before.get(("dockyard_notifications_sent_total", p.name), 0) == len(p.received())
    assert before.get(("dockyard_notifications_events_total", p.name), 0) == p.groups - waiting

    if p.occupied:
        let_the_minute_pass(p)
        p.work()
    run_scheduled_flushes(p)  # a send a pace, until nothing waits
    after = scrape(p.client)
    assert after[("dockyard_outbox_backlog", p.name)] == 0
    assert after[("dockyard_notifications_sent_total", p.name)] == len(p.received()) <= 20
    assert after[("dockyard_notifications_events_total", p.name)] == p.groups
    assert not [c for c in p.api.calls if c["kind"] in ("too_fast", "refused")]

    # Where the quota had room, the first few went out alone as they came (its burst), before pacing merged
    # the rest; where the minute was used up, everything waited and arrives merged.
    views = p.views()
    alone = [ALONE.search(title).group(1) for title, _ in views if ALONE.search(title)]
    assert len(alone) <= p.quota.burst and bool(alone) != p.occupied
    assert all(ALONE.search(t) for t, _ in views[:len(alone)])
    views = views[len(alone):]
    lines = [line for _, ls in views for line in ls]
    for i in range(p.groups):
        name = f"Latency{i:03d}"
        if name in alone:
            continue
        [line] = [line for line in lines if f"{name} " in line]  # each group once, on one line
        assert f"[Graph]({p.link(i)})" in line and f"[Alertmanager]({AM_URL})" in line
        assert p.hint.format(name=name) in line
    assert len(alone) + len(lines) == p.groups
    # Each flush's digest says on its first message how many it holds and over how many messages.
    k = 0
    while k < len(views):
        first = FIRST.search(views[k][0])
        assert first, views[k][0]
        total, parts = int(first.group(1)), int(first.group(2) or 1)
        held = len(views[k][1])
        for part in range(2, parts + 1):
            later = LATER.search(views[k + part - 1][0])
            assert later and (int(later.group(2)), int(later.group(3)), int(later.group(4))) == (total, part, parts)
            assert int(later.group(1)) == len(views[k + part - 1][1])
            held += len(views[k + part - 1][1])
        assert held == total
        k += parts


HOSTILE = "[x](http://evil.example) <@all> **loud** `code` <font color=\"warning\">x</font>"


def _hostile(i: int) -> Message:
    return Message(title=f"{HOSTILE} {i}", severity="critical", fields=(("pod", HOSTILE),), lines=(HOSTILE,),
                   buttons=(Button("Silence 1h", "silence", f"/silence Boom{i} 1h"),
                            Button("Rollback", "rollback", "/rollback web"),
                            Button("Gr]aph)(", "link", url=f"http://ok.example/a)b](c?i={i}"),
                            Button("Evil", "link", url="javascript:alert(1)")))


@pytest.mark.parametrize("quota", [DINGTALK, WECOM, WECOM_APP, FEISHU, FEISHU_APP], ids=lambda q: q.sink)
def test_digest_lines_show_outside_text_as_typed_and_link_only_to_http(quota):
    payload = outbox.render_digest(quota, outbox.digest([_hostile(1), _hostile(2)], quota.platform, 1, 2, 3, 1))
    body = json.dumps(payload, ensure_ascii=False)
    assert "javascript" not in body and "Evil" not in body
    assert "/rollback web" not in body  # a digest line keeps the commands a burst needs, not every button
    assert "3 notifications in 2 messages (1/2)" in body.replace("\\\\", "")
    assert "1 more follow" in body
    if quota.sink == "feishu":
        texts = re.findall(r'"tag": "(\w+)"', body)
        assert "lark_md" not in texts  # every outside text is plain_text
        buttons = [b for e in payload["card"]["elements"] if e["tag"] == "action" for b in e["actions"]]
        assert [b["url"] for b in buttons if "url" in b] == ["http://ok.example/a)b](c?i=1", "http://ok.example/a)b](c?i=2"]
        commands = [b["value"]["command"] for b in buttons if "value" in b]
        assert commands == (["/silence Boom1 1h", "/silence Boom2 1h"] if quota is FEISHU_APP else [])
        return
    text = payload["markdown"].get("text") or payload["markdown"].get("content")
    assert "](http://evil" not in text and "<@all>" not in text and "**loud**" not in text
    assert '<font color="warning">' not in text
    label = r"Gr\]aph\)\(" if quota.sink == "dingtalk" else "Gr］aph)("
    for i in (1, 2):
        assert f"[{label}](http://ok.example/a%29b%5D%28c?i={i})" in text  # the link cannot end early
        assert f"/silence Boom{i} 1h`" in text


def test_a_message_too_large_for_a_digest_line_is_sent_as_itself(redis):
    big = Message(title="huge", buttons=tuple(Button(f"runbook {n}", "link", url="http://wiki.example/" + "x" * 900)
                                              for n in range(4)))
    messages = [Message(title=f"event {i}") for i in range(40)]
    messages.insert(3, big)
    for m in messages:
        outbox.push(redis, WECOM_APP, "user:dave", m)
    payloads: list[dict] = []
    result = outbox.flush(redis, WECOM_APP, "user:dave", lambda p: payloads.append(p) or {"errcode": 0})
    assert result.waiting == 0 and result.events == 41 and result.sent == len(payloads) <= 30
    texts = [p["markdown"]["content"] for p in payloads]
    assert all(len(t.encode()) <= 2048 for t in texts)
    assert any(t.startswith("### ℹ huge") for t in texts)  # as itself, fitted by its own renderer
    assert all(any(re.search(rf"event {i}\b", t) for t in texts) for i in range(40))


def test_a_digest_carries_the_prefix_so_a_keyword_secured_robot_takes_it():
    """A DingTalk robot secured by a custom keyword refuses anything without it: digests included."""
    from dataclasses import replace

    from tests.fakes.dingtalk_api import missing_keyword

    messages = [Message(title=f"[Dockyard] alert {i}", lines=(f"line {i}",)) for i in range(30)]
    with_prefix = replace(DINGTALK, prefix="[Dockyard]")
    [batch] = outbox.plan(with_prefix, messages, 1)
    payload = outbox.render_digest(with_prefix, outbox.digest(batch, "DingTalk", prefix="[Dockyard]"))
    assert missing_keyword(payload, ("[Dockyard]",)) is None
    title = payload.get("markdown", payload.get("actionCard", {})).get("title", "")
    assert title.startswith("[Dockyard] 30 notifications"), title
    bare = outbox.render_digest(DINGTALK, outbox.digest(batch, "DingTalk"))
    assert missing_keyword(bare, ("[Dockyard]",)) is not None  # what it was before: refused
