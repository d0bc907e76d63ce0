"""Slack end to end: signed requests in, the bolt app, the pipeline, real workers, a stand-in Web API out."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from rq import Queue
from slack_sdk.signature import SignatureVerifier

from core import runtime
from core.config import Settings
from core.runtime import Runtime
from handlers.app import create_app
from tests.fakes.slack_api import SlackAPI
from deploy.local.services import wait_until

SECRET, TOKEN = "slack-signing-secret", "xoxb-test-token"


@pytest.fixture
def slack_api():
    api = SlackAPI(TOKEN).start()
    yield api
    api.stop()


@pytest.fixture
def slack(rt, slack_api, work):
    settings = Settings(**{**rt.settings.model_dump(), "slack_signing_secret": SecretStr(SECRET),
                           "slack_bot_token": SecretStr(TOKEN), "slack_api_url": f"{slack_api.url}/api/"})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    client = create_app(rt=live).test_client()

    def post(body: str, content_type: str = "application/x-www-form-urlencoded", timestamp: int | None = None,
             secret: str = SECRET):
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        return client.post("/slack/events", data=body, content_type=content_type, headers={
            "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})

    def command(user: str, command_text: str, **kw):
        verb, _, rest = command_text.partition(" ")
        body = urlencode({"command": verb, "text": rest, "user_id": user, "channel_id": "C0STORE",
                          "response_url": f"{slack_api.url}/response/1", "team_id": "T1", "token": "legacy"})
        return post(body, **kw)

    return type("Slack", (), {"post": staticmethod(post), "command": staticmethod(command), "rt": live,
                              "work": staticmethod(work)})


def queued(rt) -> int:
    return sum(Queue(q, connection=rt.redis).count for q in ("commands", "rollouts", "builds"))


def test_slash_command_is_acked_then_answered_in_the_channel(slack, slack_api):
    response = slack.command("U01ALICE", "/status web")
    assert response.status_code == 200
    ack = response.get_json()
    assert ack["response_type"] == "ephemeral" and ack["text"].startswith("ℹ on it: /status web")
    assert queued(slack.rt) == 1
    slack.work()
    [posted] = [c for c in slack_api.calls if c["method"] == "chat.postMessage"]
    assert posted["channel"] == "C0STORE"
    assert posted["text"] == "ℹ [Dockyard] web status"  # DOCKYARD_MESSAGE_PREFIX starts every title
    assert any("shop-prod: 4 × 1C2G" in text for text in slack_api.texts("chat.postMessage"))


def test_wrong_command_gets_an_ephemeral_reason_and_usage(slack, slack_api):
    ack = slack.command("U01ALICE", "/deploy web canary 150%").get_json()
    assert ack["response_type"] == "ephemeral"
    assert ack["text"] == "✖ canary weight must be 1–99%, got 150%"
    assert "usage: /deploy &lt;svc&gt;" in json.dumps(ack["blocks"])  # Slack's mrkdwn escaping
    assert queued(slack.rt) == 0


def test_unknown_slack_user_may_read_but_not_act(slack):
    assert slack.command("U0STRANGER", "/status web").get_json()["text"].startswith("ℹ on it")
    refusal = slack.command("U0STRANGER", "/scale web 3").get_json()["text"]
    assert refusal.startswith("✖ unknown slack user U0STRANGER may not scale web in test: needs role developer")


@pytest.mark.parametrize("case", ["forged", "stale", "unsigned"])
def test_bad_signatures_are_refused_with_nothing_enqueued(slack, case):
    if case == "forged":
        response = slack.command("U01ALICE", "/status web", secret="not-the-secret")
    elif case == "stale":
        response = slack.command("U01ALICE", "/status web", timestamp=int(time.time()) - 6 * 60)
    else:
        from handlers.app import create_app as make
        response = make(rt=slack.rt).test_client().post("/slack/events", data="command=/status&text=web")
    assert response.status_code == 401
    assert queued(slack.rt) == 0


def test_buttons_run_the_command_they_carry(slack, slack_api):
    payload = {"type": "block_actions", "user": {"id": "U01ALICE"}, "channel": {"id": "C0STORE"},
               "response_url": f"{slack_api.url}/response/2", "trigger_id": "t", "team": {"id": "T1"},
               "actions": [{"action_id": "dockyard-status-0", "value": "/status api", "type": "button"}]}
    assert slack.post(urlencode({"payload": json.dumps(payload)})).status_code == 200
    wait_until(lambda: queued(slack.rt) == 1, 5, "the button's job")
    slack.work()
    assert any(t.startswith("ℹ [Dockyard] api status") for t in slack_api.texts("chat.postMessage"))


def test_a_refused_button_answers_only_the_clicker(slack, slack_api):
    payload = {"type": "block_actions", "user": {"id": "U01CAROL"}, "channel": {"id": "C0STORE"},
               "response_url": f"{slack_api.url}/response/3", "trigger_id": "t", "team": {"id": "T1"},
               "actions": [{"action_id": "dockyard-rollback-0", "value": "/rollback web", "type": "button"}]}
    assert slack.post(urlencode({"payload": json.dumps(payload)})).status_code == 200
    # bolt acks first and runs the listener right after, so the answer comes a moment later
    wait_until(lambda: any(c["method"] == "response_url" for c in slack_api.calls), 5, "the ephemeral answer")
    [answer] = [c for c in slack_api.calls if c["method"] == "response_url"]
    assert answer["body"]["response_type"] == "ephemeral" and answer["body"]["replace_original"] is False
    assert answer["body"]["text"].startswith("✖ carol may not rollback web in test: needs role developer")
    assert queued(slack.rt) == 0


from tests.every_command import EVERY_COMMAND  # noqa: E402


@pytest.mark.parametrize("text", EVERY_COMMAND)
def test_every_command_is_understood_from_slack(slack, text):
    ack = slack.command("U01DAVE", text).get_json()
    assert ack["response_type"] == "ephemeral"
    first = ack["text"]
    assert "unknown command" not in first and "usage:" not in json.dumps(ack["blocks"]), first
    assert first.startswith("ℹ on it:") or "no " in first or "needs an approval" in first


def test_rollout_progress_edits_one_slack_message(rt, slack_api, cluster, tmp_path):
    """Its own service (the session cluster is shared) and slow pods (3 s each), so there is progress to edit."""
    from rq import Queue as Q

    from jobs.queues import QUEUES
    from jobs.worker import DockyardSimpleWorker
    from tests.rollout_fixtures import live_runtime, write_rules

    base = live_runtime(rt.settings.redis_url, write_rules(tmp_path), cluster.dockyard_kubeconfig)
    settings = Settings(**{**base.settings.model_dump(), "slack_signing_secret": SecretStr(SECRET),
                           "slack_bot_token": SecretStr(TOKEN), "slack_api_url": f"{slack_api.url}/api/"})
    live = runtime.install(Runtime(settings=settings, rules=base.rules))
    client = create_app(rt=live).test_client()
    body = urlencode({"command": "/deploy", "text": "slk v1-slow", "user_id": "U01ALICE", "channel_id": "C0STORE",
                      "response_url": f"{slack_api.url}/response/9"})
    ts = str(int(time.time()))
    response = client.post("/slack/events", data=body, content_type="application/x-www-form-urlencoded", headers={
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=ts, body=body)})
    assert response.get_json()["text"].startswith("ℹ on it: /deploy slk v1-slow")
    assert Q("rollouts", connection=live.redis).count == 1
    DockyardSimpleWorker(list(QUEUES), connection=live.redis).work(burst=True)
    posts = [c for c in slack_api.calls if c["method"] == "chat.postMessage"]
    updates = [c for c in slack_api.calls if c["method"] == "chat.update"]
    assert posts[0]["text"].startswith("ℹ [Dockyard] slk (test): rolling update to v1-slow")  # the progress message
    assert updates and all(u["ts"] == posts[0]["ts"] for u in updates)  # edited in place
    assert posts[-1]["text"].startswith("✔ [Dockyard] slk (test): rolling update to v1-slow — done")
    assert len(posts) == 2


def test_block_kit_stays_within_slacks_limits():
    from bots.message import Button, Message
    from bots.slack.blocks import blocks

    huge = Message(title="t" * 5000, fields=tuple((f"k{i}", "v" * 3000) for i in range(30)),
                   lines=tuple("line " * 200 for _ in range(400)),
                   buttons=tuple(Button(f"b{i}" * 50, "approve", "/approve abcd") for i in range(30)), footer="f")
    out = blocks(huge)
    assert len(out) <= 50
    for block in out:
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for f in block.get("fields", []):
            assert len(f["text"]) <= 2000
        assert len(block.get("fields", [])) <= 10
    [actions] = [b for b in out if b["type"] == "actions"]
    assert len(actions["elements"]) <= 25 and all(len(e["text"]["text"]) <= 75 for e in actions["elements"])
    assert out[-1]["type"] == "context" and "more sections" in out[-3]["text"]["text"]


def test_a_signed_request_is_accepted_once(slack):
    """A captured request sent again inside Slack's five-minute window is refused, and nothing runs twice."""
    body = urlencode({"command": "/status", "text": "web", "user_id": "U01ALICE", "channel_id": "C0STORE",
                      "team_id": "T1", "token": "legacy"})
    ts = str(int(time.time()))
    assert slack.post(body, timestamp=int(ts)).status_code == 200
    again = slack.post(body, timestamp=int(ts))
    assert again.status_code == 401 and "replayed" in again.get_json()["error"]
    assert queued(slack.rt) == 1


def test_with_slacks_api_unreachable_a_command_is_answered_with_why_and_nothing_runs(rt, work):
    from deploy.local.services import free_port

    # Bolt checks its token with auth.test on the first request; Slack's API does not answer here
    settings = Settings(**{**rt.settings.model_dump(), "slack_signing_secret": SecretStr(SECRET),
                           "slack_bot_token": SecretStr(TOKEN),
                           "slack_api_url": f"http://127.0.0.1:{free_port()}/api/"})
    live = runtime.install(Runtime(settings=settings, rules=rt.rules))
    client = create_app(rt=live).test_client()
    body = urlencode({"command": "/scale", "text": "web 3", "user_id": "U01ALICE", "channel_id": "C0STORE",
                      "team_id": "T1", "token": "legacy"})
    ts = str(int(time.time()))
    response = client.post("/slack/events", data=body, content_type="application/x-www-form-urlencoded", headers={
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=ts, body=body)})
    assert response.status_code == 200  # Slack shows a 500 as "dispatch_failed"; this, it shows the person
    answer = response.get_json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == ("✖ Dockyard did not run this: it could not reach Slack's API to check its own "
                              "token. Nothing was queued or changed; try again in a minute.")
    assert queued(live) == 0
