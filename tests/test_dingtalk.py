"""DingTalk end to end: signed callbacks in, sessionWebhook replies, a signed robot within its 20/min quota."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr
from rq import Queue

from bots.dingtalk import markdown, outbox, sign
from bots.dingtalk.callback import command_text
from bots.dingtalk.sink import DingTalkSink
from bots.message import Message
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from handlers.app import create_app
from tests.fakes.dingtalk_api import DingTalkAPI

APP_SECRET, ROBOT_SECRET, ROBOT_TOKEN = "app-secret", "SECrobot", "tok-storefront"


@pytest.fixture
def ding_api():
    api = DingTalkAPI({ROBOT_TOKEN: ROBOT_SECRET}).start()
    yield api
    api.stop()


@pytest.fixture
def ding(rt, ding_api, work):
    settings = Settings(**{**rt.settings.model_dump(), "dingtalk_app_secret": SecretStr(APP_SECRET),
                           "dingtalk_robot_secret": SecretStr(ROBOT_SECRET),
                           "dingtalk_reply_origins": (ding_api.url,),
                           "dingtalk_robots": {"storefront": SecretStr(
                               f"{ding_api.url}/robot/send?access_token={ROBOT_TOKEN}")}})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    client = create_app(rt=live).test_client()

    def callback(staff: str, content: str, timestamp_ms: int | None = None, secret: str = APP_SECRET,
                 body: dict | None = None):
        ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
        payload = body if body is not None else {
            "msgtype": "text", "text": {"content": content}, "senderStaffId": staff, "senderNick": staff,
            "conversationId": "cid1", "sessionWebhook": f"{ding_api.url}/session/abc",
            "sessionWebhookExpiredTime": int(time.time() * 1000) + 3_600_000}
        return client.post("/dingtalk/callback", json=payload,
                           headers={"timestamp": ts, "sign": sign.sign(ts, secret)})

    return type("Ding", (), {"callback": staticmethod(callback), "rt": live, "work": staticmethod(work),
                             "client": client})


def queued(rt) -> int:
    return sum(Queue(q, connection=rt.redis).count for q in ("commands", "rollouts", "builds"))


def test_signing_matches_dingtalks_algorithm():
    # Base64(HmacSHA256(secret, "1700000000000\nSECxyz")), computed independently with openssl
    assert sign.sign("1700000000000", "SECxyz") == "0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg="
    assert sign.verify("1700000000000", sign.sign("1700000000000", "s"), "s", now_ms=1700000000000) is None
    assert sign.verify("1700000000000", "bogus", "s", now_ms=1700000000000) == "sign does not match"
    assert "one hour old" in sign.verify("1700000000000", sign.sign("1700000000000", "s"), "s",
                                     now_ms=1700000000000 + 3_600_001)


def test_mentions_are_stripped():
    assert command_text("@Dockyard /status web") == "/status web"
    assert command_text("  @Dockyard @某人 deploy web ") == "deploy web"


def test_command_is_answered_through_the_session_webhook(ding, ding_api):
    response = ding.callback("alice01", "@Dockyard /status web")
    assert response.status_code == 200 and response.get_json() == {"msgtype": "empty"}
    ding.work()
    [reply] = [c for c in ding_api.calls if c["kind"] == "session"]
    assert reply["payload"]["msgtype"] == "markdown"
    assert reply["payload"]["markdown"]["text"].startswith("### ℹ \\[Dockyard\\] web status")  # DOCKYARD_MESSAGE_PREFIX
    assert "- **team**: storefront" in reply["payload"]["markdown"]["text"]


def test_refusals_answer_in_the_callback_response(ding):
    answer = ding.callback("bob01", "@Dockyard /deploy web").get_json()
    assert answer["msgtype"] == "markdown"
    assert answer["markdown"]["text"].startswith("### ✖ bob may not deploy web in test: needs role developer")
    wrong = ding.callback("alice01", "@Dockyard /scale web -1").get_json()
    assert "replicas must be a whole number 0–200" in wrong["markdown"]["text"]
    # Plain text is backslash-escaped markdown: DingTalk shows "usage: /scale <svc> <n> [in <env>]".
    assert r"usage: /scale \<svc\> \<n\> \[in \<env\>\]" in wrong["markdown"]["text"]
    assert queued(ding.rt) == 0


@pytest.mark.parametrize("case,status", [("forged", 401), ("stale", 401), ("malformed", 400), ("missing", 400)])
def test_bad_callbacks_are_refused_and_nothing_is_enqueued(ding, case, status):
    if case == "forged":
        response = ding.callback("alice01", "/status web", secret="wrong")
    elif case == "stale":
        response = ding.callback("alice01", "/status web", timestamp_ms=int(time.time() * 1000) - 3_700_000)
    elif case == "malformed":
        ts = str(int(time.time() * 1000))
        response = ding.client.post("/dingtalk/callback", data="{not json", content_type="application/json",
                                    headers={"timestamp": ts, "sign": sign.sign(ts, APP_SECRET)})
    else:
        response = ding.callback("alice01", "", body={"msgtype": "text", "text": {"content": "/status web"}})
    assert response.status_code == status
    assert response.get_json()["error"]
    assert queued(ding.rt) == 0


def test_a_burst_of_500_events_gives_at_most_20_messages_and_loses_none(ding, ding_api):
    sink = DingTalkSink(ding.rt.redis, ding.rt.settings)
    for i in range(500):
        sink.post({"sink": "dingtalk", "robot": "storefront"},
                  Message(title=f"OOMKilled web-{i:03d}", severity="critical", fields=(("pod", f"web-{i:03d}"),)))
    ding.work()  # the queued flush job
    robot = [c for c in ding_api.calls if c["kind"] == "robot"]
    assert 1 <= len(robot) <= 20
    assert not [c for c in ding_api.calls if c["kind"] in ("too_fast", "refused")]
    delivered = "\n".join(ding_api.robot_texts())
    assert all(f"OOMKilled web-{i:03d}" in delivered for i in range(500))
    assert ding.rt.redis.llen(outbox.outbox_key("storefront")) == 0


def test_send_too_fast_backs_off_and_keeps_every_message(ding, ding_api):
    ding_api.sent_at[ROBOT_TOKEN] = [time.time()] * 20  # the minute's quota is already used elsewhere
    sink = DingTalkSink(ding.rt.redis, ding.rt.settings)
    for i in range(3):
        sink.post({"sink": "dingtalk", "robot": "storefront"}, Message(title=f"alert {i}"))
    ding.work()
    assert [c["kind"] for c in ding_api.calls] == ["too_fast"]
    assert ding.rt.redis.llen(outbox.outbox_key("storefront")) == 3  # nothing dropped
    scheduled = Queue("outbox", connection=ding.rt.redis).scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1  # the flush comes back after the back-off


def test_digest_planning_packs_within_the_byte_limit():
    messages = [Message(title=f"event {i}", lines=("x" * 500,)) for i in range(200)]
    batches = outbox.plan(messages, slots=20)
    assert len(batches) <= 20 and sum(len(b) for b in batches) == 200
    for batch in batches:
        payload = outbox.digest(batch) if len(batch) > 1 else markdown.payload(batch[0])
        assert len(__import__("json").dumps(payload, ensure_ascii=False).encode()) <= markdown.MAX_BYTES
    assert outbox.plan(messages[:5], slots=20) == [[m] for m in messages[:5]]  # no burst: one each


def test_oversized_messages_are_cut_to_20000_bytes():
    huge = Message(title="logs", lines=tuple("日志行 " * 40 for _ in range(2000)))
    payload = markdown.payload(huge)
    size = len(__import__("json").dumps(payload, ensure_ascii=False).encode())
    assert size <= markdown.MAX_BYTES and "more lines" in payload["markdown"]["text"]


from tests.every_command import EVERY_COMMAND  # noqa: E402


@pytest.mark.parametrize("text", EVERY_COMMAND)
def test_every_command_is_understood_from_dingtalk(ding, text):
    answer = ding.callback("dave01", f"@Dockyard {text}").get_json()
    if answer != {"msgtype": "empty"}:  # not queued: it must be a reason, never a parse failure
        body = answer["markdown"]["text"]
        assert "unknown command" not in body and "usage:" not in body, body
        assert "no " in body
    else:
        assert queued(ding.rt) == 1
