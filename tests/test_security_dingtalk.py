"""DingTalk against real gunicorn and Redis: four eyes, replays, reply targets, signed links (#12 items 1-3, 15)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
import requests
import yaml
from rq import Queue

from bots.dingtalk import sign
from core import runtime
from core.config import from_env
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from rules import load_rules
from tests.fakes.dingtalk_api import DingTalkAPI
from deploy.local.services import RedisServer, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP_KEY, APP_SECRET, AGENT, ROBOT_TOKEN, ROBOT_SECRET = "dingkey", "app-secret", "4242", "tok-sf", "SECrobot"


class Dockyard:
    """gunicorn serving the app, the DingTalk stand-in, and the same settings for in-process workers."""

    def __init__(self, tmp: Path):
        rules = tmp / "rules"
        shutil.copytree(ROOT / "rules", rules)
        routing = yaml.safe_load((rules / "routing.yaml").read_text())
        routing["channels"]["storefront"] = {"sink": "dingtalk", "robot": "storefront"}
        (rules / "routing.yaml").write_text(yaml.safe_dump(routing))
        self.redis_server = RedisServer(tmp / "redis").start()
        self.ding = DingTalkAPI({ROBOT_TOKEN: ROBOT_SECRET}, app=(APP_KEY, APP_SECRET, AGENT)).start()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        self.env.update({
            "DOCKYARD_REDIS_URL": self.redis_server.url, "DOCKYARD_RULES_DIR": str(rules),
            "DOCKYARD_PUBLIC_URL": self.base, "DOCKYARD_LINK_SECRET": "link-secret", "DOCKYARD_JOB_RETRIES": "0",
            "DINGTALK_APP_SECRET": APP_SECRET, "DINGTALK_APP_KEY": APP_KEY, "DINGTALK_AGENT_ID": AGENT,
            "DINGTALK_API_URL": self.ding.url, "DINGTALK_REPLY_ORIGINS": self.ding.url,
            "DINGTALK_ROBOT_WEBHOOK": f"storefront={self.ding.url}/robot/send?access_token={ROBOT_TOKEN}",
            "DINGTALK_ROBOT_SECRET": ROBOT_SECRET})
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                      "handlers.app:create_app()"], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: requests.get(f"{self.base}/healthz", timeout=1).ok, 20, "gunicorn")
        self.previous = runtime._current
        settings = from_env(self.env)
        self.rt = runtime.install(runtime.Runtime(settings=settings, rules=load_rules(settings.rules_dir)))

    def stop(self) -> None:
        runtime._current = self.previous
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        self.ding.stop()
        self.redis_server.stop()

    def work(self) -> None:
        DockyardSimpleWorker(list(QUEUES), connection=self.rt.redis).work(burst=True, with_scheduler=False)

    def queued(self) -> int:
        return sum(Queue(q, connection=self.rt.redis).count for q in QUEUES)

    def callback(self, staff: str, text: str, headers: dict | None = None, webhook: str | None = None,
                 msg_id: str | None = None) -> requests.Response:
        ts = str(int(time.time() * 1000))
        body = {"msgtype": "text", "text": {"content": f"@Dockyard {text}"}, "senderStaffId": staff,
                "conversationId": "cid1", "sessionWebhook": webhook or f"{self.ding.url}/session/abc"}
        if msg_id:
            body["msgId"] = msg_id
        return requests.post(f"{self.base}/dingtalk/callback", json=body, timeout=5,
                             headers=headers or {"timestamp": ts, "sign": sign.sign(ts, APP_SECRET)})

    def alive(self) -> bool:
        return requests.get(f"{self.base}/healthz", timeout=5).status_code == 200


@pytest.fixture
def dy(tmp_path):
    running = Dockyard(tmp_path)
    yield running
    running.stop()


def approval_id(dy: Dockyard) -> str:
    texts = dy.ding.robot_texts()
    return next(m.group(1) for t in texts if (m := re.search(r"approval (\w+)", t)))


def test_the_group_card_carries_no_link_and_each_approver_gets_their_own(dy):
    assert dy.callback("alice01", "/rollback web in prod").json() == {"msgtype": "empty"}
    dy.work()
    ident = approval_id(dy)
    group = json.dumps([c for c in dy.ding.calls if c["kind"] == "robot"], ensure_ascii=False)
    assert "/actions/" not in group  # nothing in the group acts as anyone
    assert f"@Dockyard /approve {ident}" in group
    personal = {c["userid"]: c["card"] for c in dy.ding.calls if c["kind"] == "work"}
    assert sorted(personal) == ["carol01", "dave01"]  # the approvers, each in their own chat; not alice
    carol_approve = personal["carol01"]["btn_json_list"][0]
    assert carol_approve["title"] == "Approve"
    # Carol's own link approves as carol; it answers in the group it came from.
    token_url = carol_approve["action_url"]
    assert requests.post(token_url, timeout=5).status_code == 200
    dy.work()
    record = dy.rt.redis.hgetall(f"dockyard:approval:{ident}")
    assert (record[b"status"], record[b"requester"], record[b"decided_by"]) == (b"approved", b"alice", b"carol")
    assert dy.alive()


def test_a_callback_header_pair_is_accepted_once(dy):
    ts = str(int(time.time() * 1000))
    headers = {"timestamp": ts, "sign": sign.sign(ts, APP_SECRET)}
    assert dy.callback("alice01", "/status web", headers=headers).status_code == 200
    before = dy.queued()
    # The same pair with another sender and command: DingTalk's sign does not cover the body.
    replay = dy.callback("carol01", "/approve abc123", headers=headers)
    assert replay.status_code == 401 and "replayed" in replay.json()["error"]
    assert dy.queued() == before and dy.alive()


def test_a_message_id_is_accepted_once(dy):
    assert dy.callback("alice01", "/status web", msg_id="msg-1").status_code == 200
    again = dy.callback("alice01", "/status web", msg_id="msg-1")  # a fresh sign, the same message
    assert again.status_code == 409 and "already received" in again.json()["error"]
    assert dy.queued() == 1


@pytest.mark.parametrize("ahead_ms,status", [(50 * 60 * 1000, 401), (30 * 1000, 200)])
def test_future_timestamps_get_only_clock_skew(dy, ahead_ms, status):
    ts = str(int(time.time() * 1000) + ahead_ms)
    answer = dy.callback("alice01", "/status web", headers={"timestamp": ts, "sign": sign.sign(ts, APP_SECRET)})
    assert answer.status_code == status
    if status == 401:
        assert "future" in answer.json()["error"] and dy.queued() == 0


class Listener:
    """A loopback HTTP server that records anything posted to it (what an SSRF would reach)."""

    def __init__(self):
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                outer.hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.mark.parametrize("where", ["loopback", "file:///etc/passwd", "https://oapi.dingtalk.com.evil.example/x",
                                   "https://user@oapi.dingtalk.com/robot"])
def test_replies_go_only_to_dingtalks_hosts(dy, where):
    listener = Listener()
    webhook = f"{listener.url}/internal/admin" if where == "loopback" else where
    answer = dy.callback("alice01", "/status web", webhook=webhook)
    assert answer.status_code == 400 and "sessionWebhook" in answer.json()["error"]
    dy.work()
    assert listener.hits == [] and dy.queued() == 0 and dy.alive()
    listener.server.shutdown()
