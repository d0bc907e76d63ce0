"""Signed, expiring action links: forged, expired and reused links are refused; GET never acts."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr
from rq import Queue

from bots import links
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from handlers.app import create_app

SECRET = "link-secret"


@pytest.fixture
def client(rt):
    live = runtime.install(Runtime(settings=Settings(**{**rt.settings.model_dump(),
                                                        "link_secret": SecretStr(SECRET)}), rules=rt.rules))
    return create_app(rt=live).test_client(), live


def test_tokens_bind_command_identity_and_expiry():
    token = links.make(SECRET, "/approve abc123", "dingtalk", "carol01", ttl=60, now=1000)
    assert links.read(SECRET, token, now=1030) == {"c": "/approve abc123", "ch": "dingtalk", "u": "carol01",
                                                   "exp": 1060}
    with pytest.raises(ValueError, match="expired"):
        links.read(SECRET, token, now=1061)
    with pytest.raises(ValueError, match="not made by this Dockyard"):
        links.read("other", token, now=1030)
    body, mac = token.split(".")
    forged = links.make("x", "/approve abc123", "dingtalk", "dave01", ttl=60, now=1000).split(".")[0]
    with pytest.raises(ValueError, match="not made by this Dockyard"):
        links.read(SECRET, f"{forged}.{mac}", now=1030)


def test_get_only_asks_and_post_runs_once_as_the_bound_user(client):
    http, live = client
    token = links.make(SECRET, "/status web", "dingtalk", "carol01")
    page = http.get(f"/actions/{token}")
    assert page.status_code == 200 and "Run <code>/status web</code> as dingtalk user carol01?" in page.get_data(
        as_text=True)
    assert Queue("commands", connection=live.redis).count == 0  # a preview fetch changes nothing
    assert http.post(f"/actions/{token}?robot=storefront").status_code == 200
    assert Queue("commands", connection=live.redis).count == 1
    assert http.post(f"/actions/{token}").status_code == 409  # single use


def test_links_are_refused_when_forged_or_expired_or_not_allowed(client):
    http, live = client
    assert http.get("/actions/garbage").status_code == 403
    stale = links.make(SECRET, "/status web", "dingtalk", "carol01", ttl=1, now=time.time() - 10)
    assert "expired" in http.post(f"/actions/{stale}").get_data(as_text=True)
    refused = http.post(f"/actions/{links.make(SECRET, '/scale web 3', 'dingtalk', 'carol01')}")
    assert refused.status_code == 403 and "carol may not scale web in test" in refused.get_data(as_text=True)
    assert Queue("commands", connection=live.redis).count == 0


def test_links_name_where_they_answer_inside_the_signature(client):
    http, live = client
    token = links.make(SECRET, "/status web", "dingtalk", "carol01", reply_to={"sink": "dingtalk", "robot": "payments"})
    assert links.read(SECRET, token)["r"] == {"sink": "dingtalk", "robot": "payments"}
    assert http.post(f"/actions/{token}?robot=storefront&sink=slack").status_code == 200
    [job] = Queue("commands", connection=live.redis).jobs
    assert job.kwargs["reply_to"] == {"sink": "dingtalk", "robot": "payments"}  # the query string changed nothing


def test_personal_links_go_to_each_person_allowed_to_act(client):
    from bots import approval_messages
    from bots.dingtalk.sink import personal_links
    from bots.message import Button, Message

    approval = {"id": "abc123", "requester": "dave", "service": "web", "env": "prod", "image": "r/shop/web:v2",
                "strategy_text": "rolling", "expires": time.time() + 600, "approver_roles": ["tester", "sre"]}
    http, live = client
    live.redis.hset("dockyard:approval:abc123", mapping={"service": "web", "env": "prod"})
    mine = personal_links(approval_messages.request(approval), {"sink": "dingtalk", "robot": "storefront"})
    assert {name: [label for label, _ in found[1]] for name, found in mine.items()} == {
        "carol": ["Approve", "Reject"], "dave": ["Approve", "Reject"]}  # dave's own is refused at click: four eyes
    userid, [(label, url), _] = mine["carol"]
    assert userid == "carol01" and url.startswith("http://127.0.0.1:8080/actions/") and "?" not in url
    assert links.read(SECRET, url.split("/actions/")[1]) ["u"] == "carol01"
    health = personal_links(Message(title="web OOM", buttons=(Button("Rollback", "rollback", "/rollback web"),)),
                            {"sink": "dingtalk", "robot": "x"})
    assert sorted(health) == ["alice", "dave"]  # developers of web, and the SRE
