"""Feishu end to end: encrypted, signed events in, the app's cards with buttons, signed custom bots within quota."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr
from rq import Queue

from bots.feishu import card, sign
from bots.feishu.sink import FeishuSink
from bots.message import Button, Message
from bots.sinks import outbox
from bots.sinks.registry import check_address
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from handlers.app import create_app
from rules import load_rules
from tests.every_command import EVERY_COMMAND
from tests.fakes.feishu_api import FeishuAPI

ROOT = Path(__file__).resolve().parent.parent
APP, BOT_TOKEN, BOT_SECRET = ("cli_a1b2c3", "app-secret"), "2f4e-bot-token", "nIMtb7r3N9pkXyXdtAbx6e"
ENCRYPT_KEY, VERIFICATION_TOKEN = "kG8e-encrypt-key", "v-token-1"
CHAT = "oc_5ad11d72b830411d72b836c20"
# Alice and Dave are known by open_id, Carol by the tenant's user_id (both are what Feishu sends).
IDS = {"alice": "ou_alice", "bob": "ou_bob", "carol": "carol01", "dave": "ou_dave"}


@pytest.fixture
def feishu_rules(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    policy = yaml.safe_load((rules / "policy.yaml").read_text())
    for name, feishu_id in IDS.items():
        policy["users"][name]["feishu"] = feishu_id
    (rules / "policy.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True))
    routing = yaml.safe_load((rules / "routing.yaml").read_text())
    routing["channels"]["storefront"] = {"sink": "feishu", "chat": CHAT}
    routing["channels"]["oncall"] = {"sink": "feishu", "robot": "oncall"}
    (rules / "routing.yaml").write_text(yaml.safe_dump(routing))
    return load_rules(rules)


def _make(rt, feishu_rules, work, encrypt_key: str | None, token: str | None):
    api = FeishuAPI({BOT_TOKEN: BOT_SECRET}, APP, {CHAT}, encrypt_key=encrypt_key, verification_token=token).start()
    settings = Settings(**{**rt.settings.model_dump(), "feishu_app_id": APP[0], "feishu_app_secret": SecretStr(APP[1]),
                           "feishu_encrypt_key": SecretStr(encrypt_key) if encrypt_key else None,
                           "feishu_verification_token": SecretStr(token) if token else None,
                           "feishu_api_url": api.url, "feishu_robot_secret": SecretStr(BOT_SECRET),
                           "feishu_robots": {"oncall": SecretStr(f"{api.url}/open-apis/bot/v2/hook/{BOT_TOKEN}")}})
    live = runtime.install(Runtime(settings=settings, rules=feishu_rules))
    client = create_app(rt=live).test_client()

    def deliver(event: dict, **kwargs):
        headers, body = api.request(event, **kwargs)
        return client.post("/feishu/events", data=body, headers=headers)

    def say(who: str, text: str, **kwargs):
        ids = {"user_id": IDS[who]} if not IDS[who].startswith("ou_") else {}
        open_id = IDS[who] if IDS[who].startswith("ou_") else f"ou_{who}_open"
        return deliver(api.message(open_id, text, CHAT, **ids, **kwargs))

    return api, type("Feishu", (), {"deliver": staticmethod(deliver), "say": staticmethod(say), "rt": live,
                                    "client": client, "work": staticmethod(work),
                                    "sink": FeishuSink(live.redis, settings)})


@pytest.fixture
def both(rt, feishu_rules, work):
    """An app with an Encrypt Key (encrypted, signed events) and a verification token."""
    api, fs = _make(rt, feishu_rules, work, ENCRYPT_KEY, VERIFICATION_TOKEN)
    yield api, fs
    api.stop()


@pytest.fixture
def token_only(rt, feishu_rules, work):
    api, fs = _make(rt, feishu_rules, work, None, VERIFICATION_TOKEN)
    yield api, fs
    api.stop()


def queued(rt) -> int:
    return sum(Queue(q, connection=rt.redis).count for q in ("commands", "rollouts", "builds"))


def card_text(c: dict) -> str:
    return json.dumps(c, ensure_ascii=False)


def test_signing_and_decryption_match_feishus_algorithms():
    # Base64(HmacSHA256(key = "1599360473\nSECxyz", message = "")), computed independently with openssl
    assert sign.bot_sign("1599360473", "SECxyz") == "5uPTQ6AhsCWqk+iix6foSKSocxGEvxldJYlDIzWUs5Q="
    # Feishu's published example for event decryption
    assert sign.decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == b"hello world"
    with pytest.raises(sign.CryptoError):
        sign.decrypt("other key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")


@pytest.mark.parametrize("mode", ["both", "token_only"])
def test_url_verification_answers_the_challenge(request, mode):
    api, fs = request.getfixturevalue(mode)
    answer = fs.deliver({"challenge": "ajls384kdjx98XX", "token": VERIFICATION_TOKEN, "type": "url_verification"},
                        sign=False)
    assert answer.status_code == 200 and answer.get_json() == {"challenge": "ajls384kdjx98XX"}
    wrong = fs.deliver({"challenge": "x", "token": "someone-elses", "type": "url_verification"}, sign=False)
    assert wrong.status_code == 401


def test_a_command_is_answered_with_a_card_in_the_chat(both):
    api, fs = both
    response = fs.say("alice", "/status web")
    assert response.status_code == 200
    fs.work()
    [reply] = api.cards("app")
    assert reply["header"]["title"]["content"] == "ℹ [Dockyard] web status"
    assert "team: storefront" in card_text(reply)


def test_refusals_come_at_once_and_queue_no_command(both):
    api, fs = both
    assert fs.say("bob", "/deploy web").status_code == 200
    assert fs.say("alice", "/scale web -1").status_code == 200
    assert queued(fs.rt) == 0
    fs.work()  # only the chat's outbox flush
    titles = [c["header"]["title"]["content"] for c in api.cards("app")]
    assert any(t.startswith("✖ bob may not deploy web in test: needs role developer") for t in titles)
    assert any("replicas must be a whole number 0–200" in t for t in titles)


@pytest.mark.parametrize("case", ["forged", "unsigned", "stale", "wrong key", "wrong token", "not encrypted"])
def test_bad_events_are_refused_and_nothing_runs(both, case):
    api, fs = both
    event = api.message(IDS["alice"], "/restart web", CHAT)
    if case == "forged":
        response = fs.deliver(event, key="not-the-key")
    elif case == "unsigned":
        response = fs.deliver(event, sign=False)
    elif case == "stale":
        response = fs.deliver(event, timestamp=int(time.time()) - 600)
    elif case == "wrong key":
        api.encrypt_key = "not-the-key"
        response = fs.deliver(event)
    elif case == "wrong token":
        event["header"]["token"] = "someone-elses"
        response = fs.deliver(event)
    else:
        response = fs.client.post("/feishu/events", json=event)
    assert response.status_code in (400, 401) and response.get_json()["error"]
    assert queued(fs.rt) == 0


@pytest.mark.parametrize("mode", ["both", "token_only"])
def test_an_event_is_accepted_once(request, mode):
    api, fs = request.getfixturevalue(mode)
    event = api.message(IDS["alice"], "/restart web", CHAT)
    assert fs.deliver(event).status_code == 200 and queued(fs.rt) == 1
    again = fs.deliver(event)  # the same event, freshly signed when there is a key
    assert again.status_code == 409 and "replayed" in again.get_json()["error"]
    same_message = api.message(IDS["alice"], "/restart web", CHAT,
                               message_id=event["event"]["message"]["message_id"])
    assert fs.deliver(same_message).status_code == 409
    assert queued(fs.rt) == 1


def test_without_an_encrypt_key_old_events_are_refused(token_only):
    api, fs = token_only
    stale = api.message(IDS["alice"], "/restart web", CHAT, created_ms=int(time.time() * 1000) - 600_000)
    assert fs.deliver(stale).status_code == 401 and queued(fs.rt) == 0


def test_a_button_runs_as_whoever_clicked_it(both):
    api, fs = both
    fs.say("alice", "/rollback web in prod")
    fs.work()
    [request] = [c for c in api.cards("app") if "Approve" in card_text(c)]
    approve = next(a for e in request["elements"] if e["tag"] == "action" for a in e["actions"]
                   if a["text"]["content"] == "Approve")
    command = approve["value"]["command"]
    assert command.startswith("/approve ") and "url" not in approve
    # Alice's own click is alice's: she cannot approve her own change.
    own = fs.deliver(api.click(IDS["alice"], command, CHAT)).get_json()
    assert own["toast"]["type"] == "error" and "alice" in own["toast"]["content"]
    # Carol (known to the policy by her user_id) clicks: it approves as carol.
    carol = api.click("ou_carol_open", command, CHAT)
    carol["event"]["operator"]["user_id"] = IDS["carol"]
    assert fs.deliver(carol).get_json()["toast"]["type"] == "info"
    fs.work()
    ident = command.split()[1]
    record = fs.rt.redis.hgetall(f"dockyard:approval:{ident}")
    assert (record[b"status"], record[b"requester"], record[b"decided_by"]) == (b"approved", b"alice", b"carol")


def test_a_burst_of_500_events_stays_within_the_bots_quota_and_loses_none(both):
    api, fs = both
    for i in range(500):
        fs.sink.post({"sink": "feishu", "robot": "oncall"},
                     Message(title=f"OOMKilled web-{i:03d}", severity="critical", fields=(("pod", f"web-{i:03d}"),)))
    fs.work()
    sent = [c for c in api.calls if c["kind"] == "bot"]
    assert 1 <= len(sent) <= 5  # at most 5 in any second, 100 in any minute
    assert not [c for c in api.calls if c["kind"] in ("too_fast", "refused")]
    delivered = "\n".join(card_text(c["card"]) for c in sent)
    assert all(f"OOMKilled web-{i:03d}" in delivered for i in range(500))
    assert all(c["size"] <= 20 * 1024 for c in sent)
    assert fs.rt.redis.llen(outbox.outbox_key("feishu", "oncall")) == 0


def test_frequency_limited_backs_off_and_keeps_every_message(both):
    api, fs = both
    api.sent_at[f"bot:{BOT_TOKEN}"] = [time.time()] * 100  # the minute was used up elsewhere
    for i in range(3):
        fs.sink.post({"sink": "feishu", "robot": "oncall"}, Message(title=f"alert {i}"))
    fs.work()
    assert [c["kind"] for c in api.calls] == ["too_fast"]
    assert fs.rt.redis.llen(outbox.outbox_key("feishu", "oncall")) == 3
    assert len(Queue("outbox", connection=fs.rt.redis).scheduled_job_registry.get_job_ids()) == 1


def test_a_bot_card_shows_the_command_and_acts_as_nobody(both):
    api, fs = both
    message = Message(title="approval 3f9a1c", buttons=(Button("Approve", "approve", "/approve 3f9a1c"),
                                                         Button("Graph", "link", url="javascript:alert(1)"),
                                                         Button("Runbook", "link", url="https://wiki.example/r")))
    fs.sink.post({"sink": "feishu", "robot": "oncall"}, message)
    fs.work()
    [bot_card] = api.cards("bot")
    text = card_text(bot_card)
    assert "@Dockyard /approve 3f9a1c" in text and '"value"' not in text and "javascript" not in text
    assert '"url": "https://wiki.example/r"' in text


def test_outside_text_is_plain_text_everywhere():
    hostile = '<at id=all></at> [click](http://evil.example) **loud** <font color="red">x</font>'
    payload = card.app_payload(Message(title=hostile, fields=((hostile, hostile),), lines=(hostile,),
                                       footer=hostile))
    text = card_text(payload)
    assert "lark_md" not in text and '"tag": "markdown"' not in text
    # Shown as typed: in the title, the field (its key and its value), the lines and the footer.
    assert text.count(hostile.replace('"', '\\"')) == 5


def test_oversized_messages_fit_the_request_limits():
    huge = Message(title="logs " * 5000, lines=tuple("日志行 " * 40 for _ in range(2000)))
    assert card.bot_size(card.bot_payload(huge)) <= card.BOT_BODY_BYTES
    assert card.app_size(card.app_payload(huge)) <= card.APP_BODY_BYTES
    assert "more lines" in card_text(card.bot_payload(huge))


def test_routing_names_a_bot_or_a_chat():
    assert check_address("feishu", {"robot": "oncall"}) == {"robot": "oncall"}
    assert check_address("feishu", {"chat": CHAT}) == {"chat": CHAT}
    for wrong in ({}, {"robot": "a", "chat": CHAT}, {"chat": "general"}):
        with pytest.raises(ValueError, match="feishu channel"):
            check_address("feishu", wrong)


@pytest.mark.parametrize("text", EVERY_COMMAND)
def test_every_command_is_understood_from_feishu(both, text):
    api, fs = both
    assert fs.say("dave", text).status_code == 200
    if queued(fs.rt) == 0:  # not queued: it must be a reason, never a parse failure
        fs.work()
        body = "\n".join(card_text(c) for c in api.cards("app"))
        assert "unknown command" not in body and "usage:" not in body, body
        assert "no " in body
