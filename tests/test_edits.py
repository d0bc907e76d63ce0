"""Messages updated in place on DingTalk, Feishu and WeCom, through the outbox and a real RQ worker.

For each platform, where its destination can edit (an app's card in a group, the app's chat with
a member), a rollout's progress ends as ONE message whose content is the final one; group robots
still get no intermediate updates; an update queued before its post was sent is still delivered;
a refused edit arrives as a new message; a burst within quota loses nothing.
"""

from __future__ import annotations

import json
import time

import pytest
from pydantic import SecretStr

from bots.dingtalk import sign
from bots.message import Message
from bots.sinks import edits, outbox
from bots.sinks.registry import check_address
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from jobs import notify
from tests.fakes.dingtalk_api import DingTalkAPI
from tests.fakes.feishu_api import FeishuAPI
from tests.fakes.wecom_api import WeComAPI

FS_APP, FS_CHAT, FS_BOT = ("cli_a1b2c3", "app-secret"), "oc_5ad11d72b830411d72b836c20", "2f4e-bot-token"


def progress(step: int, of: int = 4) -> Message:
    return Message(title=f"web: rolling update {step}/{of}", severity="info", lines=(f"{step} of {of} pods ready",))


FINAL = Message(title="web deployed to test", severity="success", lines=("4 of 4 pods ready",))


def rollout(target: dict, work, between: bool = True) -> str:
    """A rollout's messages through jobs.notify.show(), the worker running the outbox in between."""
    ref = notify.show(target, progress(0))
    if between:
        work()
    for step in (1, 2, 3):
        assert notify.show(target, progress(step), ref) == ref or not between
        if between:
            work()
    notify.show(target, FINAL, ref)
    work()
    return ref


# -- Feishu -------------------------------------------------------------------------------------------


@pytest.fixture
def feishu(rt, work):
    api = FeishuAPI({FS_BOT: ""}, FS_APP, {FS_CHAT}).start()
    settings = Settings(**{**rt.settings.model_dump(), "feishu_app_id": FS_APP[0],
                           "feishu_app_secret": SecretStr(FS_APP[1]), "feishu_api_url": api.url,
                           "feishu_robots": {"oncall": SecretStr(f"{api.url}/open-apis/bot/v2/hook/{FS_BOT}")}})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    yield api, live
    api.stop()


def fs_text(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_feishu_progress_is_one_card_edited_in_place(feishu, work):
    api, rt = feishu
    rollout({"sink": "feishu", "chat": FS_CHAT}, work)
    view = api.chat_view(FS_CHAT)
    assert len(view) == 1  # one message in the chat, whatever the updates
    assert "web deployed to test" in fs_text(view[0]["card"]) and "rolling update" not in fs_text(view[0]["card"])
    assert len(view[0]["edits"]) == 4  # three progress steps and the final state, each a PATCH
    assert "rolling update 2/4" in fs_text(view[0]["edits"][1])
    assert not rt.redis.hlen(edits.edits_key("feishu", f"chat:{FS_CHAT}"))


def test_feishu_update_queued_before_its_post_was_sent_is_the_post(feishu, work):
    api, rt = feishu
    rollout({"sink": "feishu", "chat": FS_CHAT}, work, between=False)
    view = api.chat_view(FS_CHAT)
    assert len(view) == 1 and "web deployed to test" in fs_text(view[0]["card"])
    assert view[0]["edits"] == []  # the newest content went out as the post: nothing older first


def test_feishu_custom_bot_gets_no_intermediate_updates(feishu, work):
    api, rt = feishu
    rollout({"sink": "feishu", "robot": "oncall"}, work)
    cards = [fs_text(c["card"]) for c in api.calls if c["kind"] == "bot"]
    assert len(cards) == 2  # the first headline and the final one, each a message of its own
    assert "rolling update 0/4" in cards[0] and "web deployed to test" in cards[1]


def test_feishu_refused_edit_arrives_as_a_new_card(feishu, work):
    api, rt = feishu
    target = {"sink": "feishu", "chat": FS_CHAT}
    ref = notify.show(target, progress(0))
    work()
    api.age(api.chat_view(FS_CHAT)[0]["message_id"], 15 * 86400)  # past Feishu's 14 days
    notify.show(target, FINAL, ref)
    work()  # the refused edit is queued again as a post, which the same flush sends
    view = api.chat_view(FS_CHAT)
    assert len(view) == 2 and "web deployed to test" in fs_text(view[1]["card"])
    assert [c["kind"] for c in api.calls if c["kind"] in ("patch_refused",)] == ["patch_refused"]
    notify.show(target, Message(title="web: rolled back", severity="warning"), ref)  # the new card is the ref's now
    work()
    view = api.chat_view(FS_CHAT)
    assert len(view) == 2 and "rolled back" in fs_text(view[1]["card"]) and len(view[1]["edits"]) == 1


def test_feishu_burst_with_edits_loses_nothing(feishu, work):
    api, rt = feishu
    target = {"sink": "feishu", "chat": FS_CHAT}
    ref = notify.show(target, progress(0))
    for i in range(200):
        notify.deliver(target, Message(title=f"OOMKilled web-{i:03d}", severity="critical"))
    notify.show(target, FINAL, ref)
    for _ in range(50):  # each flush sends what the second allows; the stand-in counts the same way
        work()
        if not rt.redis.llen(outbox.outbox_key("feishu", f"chat:{FS_CHAT}")) and \
                not rt.redis.hlen(edits.edits_key("feishu", f"chat:{FS_CHAT}")):
            break
        rt.redis.delete(outbox.pending_key("feishu", f"chat:{FS_CHAT}"))
        outbox.schedule_flush(rt.redis, rt.settings, "feishu", f"chat:{FS_CHAT}")
        time.sleep(1.05)  # the next second of Feishu's 5-a-second quota
    assert not [c for c in api.calls if c["kind"] == "too_fast"]
    seen = "\n".join(fs_text(m["card"]) for m in api.chat_view(FS_CHAT))
    assert all(f"OOMKilled web-{i:03d}" in seen for i in range(200))
    assert "web deployed to test" in seen


# -- WeCom --------------------------------------------------------------------------------------------

WC_CORP, WC_AGENT, WC_SECRET = "ww1436e0e65a779aee", "1000002", "app-secret"
WC_AES, WC_ROBOT = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
def wecom(rt, work):
    api = WeComAPI({WC_ROBOT}, WC_CORP, WC_AGENT, WC_SECRET, "callback-token", WC_AES).start()
    settings = Settings(**{**rt.settings.model_dump(), "wecom_corp_id": WC_CORP, "wecom_agent_id": WC_AGENT,
                           "wecom_secret": SecretStr(WC_SECRET), "wecom_api_url": api.url,
                           "wecom_robots": {"ops": SecretStr(f"{api.url}/cgi-bin/webhook/send?key={WC_ROBOT}")}})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    yield api, live
    api.stop()


def test_wecom_app_chat_shows_one_current_message(wecom, work):
    api, rt = wecom
    rollout({"sink": "wecom", "user": "AliceW"}, work)
    view = api.member_view("AliceW")
    assert len(view) == 1 and "web deployed to test" in view[0]  # each update recalled the one before
    assert len([c for c in api.calls if c["kind"] == "recall"]) == 4
    assert len(api.app_texts("AliceW")) == 5  # the post, three progress steps and the final state


def test_wecom_update_queued_before_its_post_was_sent_is_the_post(wecom, work):
    api, rt = wecom
    rollout({"sink": "wecom", "user": "AliceW"}, work, between=False)
    assert api.member_view("AliceW") == api.app_texts("AliceW")
    assert len(api.app_texts("AliceW")) == 1 and "web deployed to test" in api.app_texts("AliceW")[0]


def test_wecom_past_24_hours_the_update_arrives_beside_the_old_message(wecom, work):
    api, rt = wecom
    target = {"sink": "wecom", "user": "AliceW"}
    ref = notify.show(target, progress(0))
    work()
    api.age(next(iter(api.app_messages)), 25 * 3600)
    notify.show(target, FINAL, ref)
    work()
    view = api.member_view("AliceW")
    assert len(view) == 2 and "rolling update 0/4" in view[0] and "web deployed to test" in view[1]


def test_wecom_robot_gets_no_intermediate_updates(wecom, work):
    api, rt = wecom
    rollout({"sink": "wecom", "robot": "ops"}, work)
    texts = api.robot_texts()
    assert len(texts) == 2 and "rolling update 0/4" in texts[0] and "web deployed to test" in texts[1]


# -- DingTalk -----------------------------------------------------------------------------------------

DT_APP = ("dingappkey", "dingappsecret", "123456")
DT_TEMPLATE, DT_GROUP, DT_ROBOT_TOKEN = "b7078d27-e321.schema", "cidXr1TNsFzHKy0Ejm2mMbLg==", "tok-ops"


@pytest.fixture
def dingtalk(rt, work):
    api = DingTalkAPI({DT_ROBOT_TOKEN: "SECrobot"}, app=DT_APP, cards=(DT_TEMPLATE, DT_APP[0], {DT_GROUP})).start()
    settings = Settings(**{**rt.settings.model_dump(), "dingtalk_app_key": DT_APP[0],
                           "dingtalk_app_secret": SecretStr(DT_APP[1]), "dingtalk_card_template_id": DT_TEMPLATE,
                           "dingtalk_open_api_url": api.url, "dingtalk_api_url": api.url,
                           "dingtalk_robot_secret": SecretStr("SECrobot"), "dingtalk_reply_origins": (api.url,),
                           "dingtalk_robots": {"ops": SecretStr(f"{api.url}/robot/send?access_token={DT_ROBOT_TOKEN}")}})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    yield api, live
    api.stop()


def test_dingtalk_progress_is_one_card_updated_in_place(dingtalk, work):
    api, rt = dingtalk
    rollout({"sink": "dingtalk", "conversation": DT_GROUP}, work)
    [card] = api.group_view(DT_GROUP)
    assert "web deployed to test" in card["params"]["title"] and "4 of 4 pods ready" in card["params"]["markdown"]
    assert len(card["updates"]) == 4 and "rolling update 2/4" in card["updates"][1]["title"]
    assert not [c for c in api.calls if c["kind"] == "robot"]


def test_dingtalk_update_queued_before_its_card_was_sent_is_the_card(dingtalk, work):
    api, rt = dingtalk
    rollout({"sink": "dingtalk", "conversation": DT_GROUP}, work, between=False)
    [card] = api.group_view(DT_GROUP)
    assert "web deployed to test" in card["params"]["title"] and card["updates"] == []


def test_dingtalk_robot_gets_no_intermediate_updates(dingtalk, work):
    api, rt = dingtalk
    rollout({"sink": "dingtalk", "robot": "ops"}, work)
    texts = api.robot_texts()
    assert len(texts) == 2 and "rolling update 0/4" in texts[0] and "web deployed to test" in texts[1]
    assert api.cards == {}


def test_dingtalk_refused_update_arrives_as_a_new_card(dingtalk, work):
    api, rt = dingtalk
    target = {"sink": "dingtalk", "conversation": DT_GROUP}
    ref = notify.show(target, progress(0))
    work()
    api.cards[next(iter(api.cards))]["expired"] = True
    notify.show(target, FINAL, ref)
    work()
    cards = api.group_view(DT_GROUP)
    assert len(cards) == 2 and "web deployed to test" in cards[1]["params"]["title"]
    notify.show(target, Message(title="web: rolled back", severity="warning"), ref)  # the new card is the ref's
    work()
    cards = api.group_view(DT_GROUP)
    assert len(cards) == 2 and "rolled back" in cards[1]["params"]["title"]


def test_dingtalk_burst_of_500_within_the_minute_loses_nothing(dingtalk, work):
    api, rt = dingtalk
    target = {"sink": "dingtalk", "conversation": DT_GROUP}
    ref = notify.show(target, progress(0))
    work()
    for i in range(500):
        notify.deliver(target, Message(title=f"OOMKilled web-{i:03d}", severity="critical", fields=(("pod", f"p{i}"),)))
    notify.show(target, FINAL, ref)
    work()
    assert not [c for c in api.calls if c["kind"] == "too_fast"]
    sends = [c for c in api.calls if c["kind"] in ("card", "card_update")]
    assert len(sends) <= 20  # DingTalk's 20 a minute per group, posts and updates alike
    seen = "\n".join(c["params"]["markdown"] for c in api.group_view(DT_GROUP))
    assert all(f"OOMKilled web-{i:03d}" in seen for i in range(500))
    assert "web deployed to test" in api.group_view(DT_GROUP)[0]["params"]["title"]  # the first card, updated
    assert rt.redis.llen(outbox.outbox_key("dingtalk", f"conversation:{DT_GROUP}")) == 0


def test_a_command_from_a_group_is_answered_with_a_card_there(dingtalk, work):
    api, rt = dingtalk
    ts = str(int(time.time() * 1000))
    body = {"msgtype": "text", "text": {"content": "@Dockyard /status web"}, "senderStaffId": "alice01",
            "conversationId": DT_GROUP, "conversationType": "2", "sessionWebhook": f"{api.url}/session/abc"}
    from handlers.app import create_app
    client = create_app(rt=rt).test_client()
    answer = client.post("/dingtalk/callback", json=body, headers={"timestamp": ts, "sign": sign.sign(ts, DT_APP[1])})
    assert answer.status_code == 200
    work()
    work()  # the job's answer, then the group's outbox
    [card] = api.group_view(DT_GROUP)
    assert "web status" in card["params"]["title"]
    assert not [c for c in api.calls if c["kind"] == "session"]


def test_a_dingtalk_channel_names_a_robot_or_a_group():
    assert check_address("dingtalk", {"conversation": DT_GROUP}) == {"conversation": DT_GROUP}
    assert check_address("dingtalk", {"robot": "ops"}) == {"robot": "ops"}
    for wrong in ({}, {"robot": "ops", "conversation": DT_GROUP}, {"conversation": "not-a-cid"}):
        with pytest.raises(ValueError, match="conversation"):
            check_address("dingtalk", wrong)
