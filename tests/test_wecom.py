"""WeCom end to end: encrypted app callbacks in, passive replies and app messages out, group robots within quota."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr
from rq import Queue

from bots.message import Button, Message
from bots.sinks import outbox
from bots.wecom import crypto, markdown
from bots.wecom.sink import WeComSink
from core import runtime
from core.config import ConfigError, Settings, from_env
from core.runtime import Runtime
from handlers.app import create_app
from rules import load_rules
from tests.every_command import EVERY_COMMAND
from tests.fakes.wecom_api import WeComAPI

ROOT = Path(__file__).resolve().parent.parent
CORP, AGENT, SECRET, TOKEN = "ww1436e0e65a779aee", "1000002", "app-secret", "callback-token"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
ROBOT_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
IDS = {"alice": "AliceW", "bob": "BobW", "carol": "CarolW", "dave": "DaveW"}


@pytest.fixture
def wecom_rules(tmp_path):
    """The example rules, with each user's WeCom id and the storefront team on a WeCom robot."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    policy = yaml.safe_load((rules / "policy.yaml").read_text())
    for name, userid in IDS.items():
        policy["users"][name]["wecom"] = userid
    (rules / "policy.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True))
    routing = yaml.safe_load((rules / "routing.yaml").read_text())
    routing["channels"]["storefront"] = {"sink": "wecom", "robot": "storefront"}
    (rules / "routing.yaml").write_text(yaml.safe_dump(routing))
    return load_rules(rules)


@pytest.fixture
def api():
    stand_in = WeComAPI({ROBOT_KEY}, CORP, AGENT, SECRET, TOKEN, AES_KEY).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def wc(rt, api, wecom_rules, work):
    settings = Settings(**{**rt.settings.model_dump(), "wecom_corp_id": CORP, "wecom_agent_id": AGENT,
                           "wecom_secret": SecretStr(SECRET), "wecom_token": SecretStr(TOKEN),
                           "wecom_encoding_aes_key": SecretStr(AES_KEY), "wecom_api_url": api.url,
                           "wecom_robots": {"storefront": SecretStr(f"{api.url}/cgi-bin/webhook/send?key={ROBOT_KEY}")}})
    live = runtime.install(Runtime(settings=settings, rules=wecom_rules))
    client = create_app(rt=live).test_client()

    def send(user: str, text: str, msg_id: str | None = None, **kwargs):
        query, body = api.message(user, text, msg_id or uuid.uuid4().hex[:16], **kwargs)
        return client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")

    return type("WeCom", (), {"send": staticmethod(send), "rt": live, "client": client, "work": staticmethod(work),
                              "sink": WeComSink(live.redis, settings)})


def queued(rt) -> int:
    return sum(Queue(q, connection=rt.redis).count for q in ("commands", "rollouts", "builds"))


def test_crypto_matches_wecoms_published_sample():
    # Tencent's own sample for WXBizMsgCrypt (Token, EncodingAESKey, CorpID and two requests).
    key, token = crypto.aes_key(AES_KEY), "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
    echostr = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
    assert crypto.verify(token, "1476416373", "47744683", echostr, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb")
    assert crypto.decrypt(key, echostr) == (b"1288432023552776189", CORP)
    encrypted = ("Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRL"
                 "Nshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh"
                 "010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfS"
                 "sPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+")
    assert crypto.verify(token, "1476422779", "1597212914", encrypted, "0c3914025cb4b4d68103f6bfc8db550f79dcf48e")
    message, corp = crypto.decrypt(key, encrypted)
    assert corp == CORP and "<FromUserName>ChenJiaShun</FromUserName>" in message.decode()
    assert "<Content>你好</Content>" in message.decode()
    assert not crypto.verify("other-token", "1476422779", "1597212914", encrypted,
                             "0c3914025cb4b4d68103f6bfc8db550f79dcf48e")


def test_url_check_answers_the_decrypted_echostr(wc, api):
    answer = wc.client.get("/wecom/callback", query_string=api.url_check("5927782489442352469"))
    assert answer.status_code == 200 and answer.get_data() == b"5927782489442352469"
    forged = {**api.url_check("x"), "msg_signature": "0" * 40}
    assert wc.client.get("/wecom/callback", query_string=forged).status_code == 401


def test_a_command_is_answered_through_the_app(wc, api):
    response = wc.send(IDS["alice"], "/status web")
    assert response.status_code == 200 and response.get_data() == b""
    wc.work()
    [reply] = api.app_texts(IDS["alice"])
    assert reply.startswith("### ℹ ［Dockyard］ web status") and "**team**: storefront" in reply


def test_refusals_are_the_encrypted_passive_reply(wc, api):
    refused = api.open_reply(wc.send(IDS["bob"], "/deploy web").get_data())
    assert refused["ToUserName"] == IDS["bob"] and refused["MsgType"] == "text"
    assert refused["Content"].startswith("✖ bob may not deploy web in test: needs role developer")
    wrong = api.open_reply(wc.send(IDS["alice"], "@Dockyard /scale web -1").get_data())["Content"]
    assert "replicas must be a whole number 0–200" in wrong
    # WeCom's text turns <a href> into links: the usage's placeholders show as look-alikes.
    assert "usage: /scale ＜svc＞ ＜n＞ [in ＜env＞]" in wrong
    stranger = api.open_reply(wc.send("SomeoneElse", "/restart web").get_data())["Content"]
    assert "unknown wecom user SomeoneElse may not restart" in stranger
    assert queued(wc.rt) == 0 and api.calls == []


@pytest.mark.parametrize("case,status", [("forged", 401), ("stale", 401), ("future", 401), ("other corp", 401),
                                         ("malformed", 400), ("entities", 400)])
def test_bad_callbacks_are_refused_and_nothing_runs(wc, api, case, status):
    if case == "forged":
        response = wc.send(IDS["alice"], "/restart web", token="not-the-token")
    elif case == "stale":
        response = wc.send(IDS["alice"], "/restart web", timestamp=int(time.time()) - 600)
    elif case == "future":
        response = wc.send(IDS["alice"], "/restart web", timestamp=int(time.time()) + 600)
    elif case == "other corp":
        response = wc.send(IDS["alice"], "/restart web", receive_id="wwsomeothercorp")
    elif case == "malformed":
        query, _ = api.message(IDS["alice"], "/restart web", "m1")
        response = wc.client.post("/wecom/callback", query_string=query, data=b"<xml><Encrypt>", content_type="text/xml")
    else:
        query, body = api.message(IDS["alice"], "/restart web", "m1")
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + body
        response = wc.client.post("/wecom/callback", query_string=query, data=bomb, content_type="text/xml")
    assert response.status_code == status and response.get_json()["error"]
    assert queued(wc.rt) == 0


def test_a_callback_is_accepted_once(wc, api):
    query, body = api.message(IDS["alice"], "/restart web", "msg-7")
    first = wc.client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")
    assert first.status_code == 200 and queued(wc.rt) == 1
    again = wc.client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")
    assert again.status_code == 409 and "replayed" in again.get_json()["error"]
    resent = wc.send(IDS["alice"], "/restart web", msg_id="msg-7")  # freshly signed, the same message
    assert resent.status_code == 409 and "already received" in resent.get_json()["error"]
    assert queued(wc.rt) == 1


def test_a_burst_of_500_events_stays_within_20_a_minute_and_loses_none(wc, api):
    for i in range(500):
        wc.sink.post({"sink": "wecom", "robot": "storefront"},
                     Message(title=f"OOMKilled web-{i:03d}", severity="critical", fields=(("pod", f"web-{i:03d}"),)))
    wc.work()
    sent = api.robot_texts()
    assert 1 <= len(sent) <= 20
    assert not [c for c in api.calls if c["kind"] == "too_fast"]
    delivered = "\n".join(sent)
    assert all(f"OOMKilled web-{i:03d}" in delivered for i in range(500))
    assert all(len(text.encode()) <= 4096 for text in sent)
    assert wc.rt.redis.llen(outbox.outbox_key("wecom", "storefront")) == 0


def test_freq_out_of_limit_backs_off_and_keeps_every_message(wc, api):
    api.sent_at[f"robot:{ROBOT_KEY}"] = [time.time()] * 20  # the minute was used up elsewhere
    for i in range(3):
        wc.sink.post({"sink": "wecom", "robot": "storefront"}, Message(title=f"alert {i}"))
    wc.work()
    assert [c["kind"] for c in api.calls] == ["too_fast"]
    assert wc.rt.redis.llen(outbox.outbox_key("wecom", "storefront")) == 3
    assert len(Queue("outbox", connection=wc.rt.redis).scheduled_job_registry.get_job_ids()) == 1


def test_answers_to_one_member_stay_within_30_a_minute_so_wecom_discards_none(wc, api):
    for i in range(45):
        wc.sink.post({"sink": "wecom", "user": IDS["dave"]}, Message(title=f"answer {i:02d}"))
    wc.work()
    assert not [c for c in api.calls if c["kind"] == "discarded"]
    delivered = "\n".join(api.app_texts(IDS["dave"]))
    assert all(f"answer {i:02d}" in delivered for i in range(45))
    assert all(len(text.encode()) <= 2048 for text in api.app_texts(IDS["dave"]))


def test_outside_text_shows_as_typed_and_buttons_show_the_command(wc, api):
    hostile = "[click](http://evil.example) <@all> **loud** <font color=\"warning\">x</font> `code`"
    wc.sink.post({"sink": "wecom", "robot": "storefront"}, Message(
        title=hostile, fields=(("pod", hostile),), lines=(hostile, "# not a heading"),
        buttons=(Button("Approve", "approve", "/approve 3f9a1c"), Button("Graph", "link", url="javascript:alert(1)"))))
    wc.work()
    [text] = api.robot_texts()
    assert "](" not in text.replace('<font color="comment">', "") and "<@" not in text and "**loud**" not in text
    assert '<font color="warning">' not in text
    assert "［click］(http://evil.example) ＜@all＞ ＊＊loud＊＊" in text
    assert "> # not a heading" in text  # quoted: outside text never starts a line
    assert "send to Dockyard `/approve 3f9a1c`" in text
    assert "javascript" not in text and "/actions/" not in text


def test_oversized_messages_are_cut_to_fit():
    huge = Message(title="logs", lines=tuple("日志行 " * 40 for _ in range(2000)))
    assert len(markdown.robot_payload(huge)["markdown"]["content"].encode()) <= 4096
    assert "more lines" in markdown.robot_payload(huge)["markdown"]["content"]
    assert len(markdown.app_payload(huge)["markdown"]["content"].encode()) <= 2048


def test_a_bad_encoding_aes_key_stops_start_up():
    with pytest.raises(ConfigError, match="WECOM_ENCODING_AES_KEY"):
        from_env({"WECOM_ENCODING_AES_KEY": "too-short"})


def test_routing_names_a_robot():
    from bots.sinks.registry import check_address

    assert check_address("wecom", {"robot": "storefront"}) == {"robot": "storefront"}
    with pytest.raises(ValueError, match="WECOM_ROBOT_WEBHOOK"):
        check_address("wecom", {"robot": "a b"})


@pytest.mark.parametrize("text", EVERY_COMMAND)
def test_every_command_is_understood_from_wecom(wc, api, text):
    response = wc.send(IDS["dave"], text)
    if response.get_data() == b"":
        assert queued(wc.rt) == 1
    else:  # not queued: it must be a reason, never a parse failure
        body = api.open_reply(response.get_data())["Content"]
        assert "unknown command" not in body and "usage:" not in body, body
        assert "no " in body
