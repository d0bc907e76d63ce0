"""Issue #12, the web process as the Procfile starts it: bad input is a 4xx with the reason, bodies are bounded,
logs keep no credentials or capabilities, metric labels stay few, and slow clients cannot stop it."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import secrets
import shlex
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import requests
from slack_sdk.signature import SignatureVerifier

from bots import links
from bots.dingtalk.sign import sign as dingtalk_sign
from tests.fakes.slack_api import SlackAPI
from deploy.local.services import RedisServer, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
LIVENESS_S = 20  # socket timeouts only say "still answering"; nothing here measures speed
MB = 1024 * 1024

SECRETS = {
    "SLACK_SIGNING_SECRET": f"slack-signing-{secrets.token_hex(12)}",
    "SLACK_BOT_TOKEN": f"xoxb-{secrets.token_hex(12)}",
    "DINGTALK_APP_SECRET": f"dingtalk-app-{secrets.token_hex(12)}",
    "DOCKYARD_LINK_SECRET": f"link-secret-{secrets.token_hex(12)}",
    "GITLAB_TOKEN": f"glpat-{secrets.token_hex(10)}",
    "GITLAB_WEBHOOK_TOKEN": f"gitlab-hook-{secrets.token_hex(12)}",
    "ALERTMANAGER_WEBHOOK_TOKEN": f"am-hook-{secrets.token_hex(12)}",
}
DEEP_JSON = "[" * 50_000 + "]" * 50_000


@dataclass
class Web:
    """gunicorn started from the Procfile's web line, with its access log and the app's log in files."""

    base: str
    port: int
    access_log: Path
    output: list[Path]

    def send(self, method: str, path: str, headers: dict | None = None, body=None) -> tuple[int, bytes]:
        """One request through http.client, which sends bytes headers and chunked bodies as given."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=LIVENESS_S)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def log_lines(self) -> list[str]:
        return [line for path in (self.access_log, *self.output) if path.exists()
                for line in path.read_text(errors="replace").splitlines()]


def procfile_web() -> str:
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    return line.removeprefix("web:").strip()


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[Web]:
    tmp = tmp_path_factory.mktemp("web")
    redis = RedisServer(tmp / "redis").start()
    slack_api = SlackAPI(SECRETS["SLACK_BOT_TOKEN"]).start()  # bolt asks auth.test on the first command
    port = free_port()
    access_log, stdout, stderr = tmp / "access.log", tmp / "stdout.log", tmp / "stderr.log"
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "GUNICORN_CMD_ARGS")}
    env.update(SECRETS, PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", PORT=str(port),
               DOCKYARD_REDIS_URL=redis.url, DOCKYARD_RULES_DIR=str(ROOT / "rules"), DOCKYARD_LOG_LEVEL="INFO",
               SLACK_API_URL=f"{slack_api.url}/api/",
               # The Procfile binds every interface; here loopback only, and the access log goes to a file.
               GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port} --access-logfile {shlex.quote(str(access_log))}")
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(["/bin/sh", "-c", f"exec {procfile_web()}"], cwd=ROOT, env=env, stdout=out, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 30, "gunicorn from the Procfile")
        yield Web(base, port, access_log, [stdout, stderr])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        slack_api.stop()
        redis.stop()


def refused_with_reason(status: int, body: bytes) -> str:
    """The reason of a 4xx JSON refusal; fails on a 500 or an answer that says nothing."""
    assert 400 <= status < 500, (status, body[:300])
    reason = json.loads(body)["error"]
    assert isinstance(reason, str) and reason
    return reason


def slack_headers(body: str, timestamp: str | None = None) -> dict:
    ts = timestamp or str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts, "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Signature": SignatureVerifier(SECRETS["SLACK_SIGNING_SECRET"]).generate_signature(
                timestamp=ts, body=body)}


def dingtalk_headers() -> dict:
    ts = str(int(time.time() * 1000))
    return {"timestamp": ts, "sign": dingtalk_sign(ts, SECRETS["DINGTALK_APP_SECRET"]),
            "Content-Type": "application/json"}


def push(sha: str | None = None) -> str:
    sha = sha or secrets.token_hex(20)
    return json.dumps({"object_kind": "push", "ref": "refs/heads/main", "before": "1" * 40, "after": sha,
                       "checkout_sha": sha, "user_username": "alice", "user_name": "Alice",
                       "project": {"path_with_namespace": "shop/web"}})


def alert_group(alerts: int = 1, description: str = "") -> str:
    return json.dumps({
        "version": "4", "groupKey": '{}:{alertname="HighLatency"}', "status": "firing", "receiver": "dockyard",
        "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"alertname": "HighLatency", "service": "web"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.local", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "service": "web", "pod": f"web-{i}"},
                    "annotations": {"summary": "p99 above 2 s", "description": description},
                    "startsAt": "2026-01-01T00:00:00Z", "endsAt": "", "generatorURL": "http://prometheus.local/graph",
                    "fingerprint": f"{i:016x}"} for i in range(alerts)]})


GITLAB = {"X-Gitlab-Token": SECRETS["GITLAB_WEBHOOK_TOKEN"], "X-Gitlab-Event": "Push Hook",
          "Content-Type": "application/json"}
ALERTMANAGER = {"Authorization": f"Bearer {SECRETS['ALERTMANAGER_WEBHOOK_TOKEN']}", "Content-Type": "application/json"}


# --- 9. no 500 for bad input, before or after authentication -------------------------------------------------

BAD_TIMESTAMPS = [b"abc", b"", b"9" * 5000, "١٧٠٠٠٠٠٠٠٠".encode(), b"\xb2\xb3"]  # Arabic-Indic digits; latin-1 ²³


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS, ids=["letters", "empty", "5000-digits", "arabic", "latin1"])
def test_malformed_slack_timestamps_are_refused_with_the_reason(web, timestamp):
    headers = {**slack_headers("command=/status&text=web"), "X-Slack-Request-Timestamp": timestamp}
    refused_with_reason(*web.send("POST", "/slack/events", headers, "command=/status&text=web"))


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_non_ascii_slack_signatures_are_refused_with_the_reason(web, encoding):
    body = "command=/status&text=web"
    headers = {**slack_headers(body), "X-Slack-Signature": ("v0=" + "é" * 64).encode(encoding)}
    refused_with_reason(*web.send("POST", "/slack/events", headers, body))


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS, ids=["letters", "empty", "5000-digits", "arabic", "latin1"])
def test_malformed_dingtalk_timestamps_are_refused_with_the_reason(web, timestamp):
    headers = {**dingtalk_headers(), "timestamp": timestamp}
    refused_with_reason(*web.send("POST", "/dingtalk/callback", headers, "{}"))


def test_non_ascii_dingtalk_signs_are_refused_with_the_reason(web):
    for sign in ("é" * 44).encode(), b"\xe9" * 44:
        refused_with_reason(*web.send("POST", "/dingtalk/callback", {**dingtalk_headers(), "sign": sign}, "{}"))


def test_action_links_with_non_ascii_macs_are_refused_not_500(web):
    token = links.make(SECRETS["DOCKYARD_LINK_SECRET"], "/status web", "console", "alice")
    body, mac = token.split(".")
    for damaged in (f"{body}.{quote('é')}{mac[1:]}", f"{body}.%FF{mac[1:]}", f"{quote('ü')}.{quote('é')}"):
        for method in ("GET", "POST"):
            status, page = web.send(method, f"/actions/{damaged}")
            assert 400 <= status < 500, (method, damaged, status)
            assert b"link" in page.lower()  # the page says what is wrong with the link


def test_json_nested_50000_deep_is_a_400_after_authentication(web):
    slack_form = urlencode({"payload": DEEP_JSON})
    for path, headers, body in [
        ("/webhooks/gitlab", GITLAB, DEEP_JSON),
        ("/webhooks/alertmanager", ALERTMANAGER, DEEP_JSON),
        ("/dingtalk/callback", dingtalk_headers(), DEEP_JSON),
        ("/slack/events", slack_headers(slack_form), slack_form),
        ("/slack/events", {**slack_headers(DEEP_JSON), "Content-Type": "application/json"}, DEEP_JSON),
    ]:
        status, answer = web.send("POST", path, headers, body)
        assert status == 400, (path, status, answer[:200])
        assert refused_with_reason(status, answer)


# --- 11. chunked bodies over 1 MB ---------------------------------------------------------------------------

def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_chunked_body_over_one_megabyte_is_a_413_not_a_truncated_payload(web):
    description = "d" * 700
    whole = alert_group(alerts=1000, description=description).encode()
    assert 0.9 * MB < len(whole) <= MB
    status, answer = web.send("POST", "/webhooks/alertmanager", ALERTMANAGER, chunks(whole))
    assert status == 202 and json.loads(answer)["alerts"] == 1000  # chunked and under the limit: all of it

    over = alert_group(alerts=1200, description=description).encode()
    assert MB < len(over) < 2 * MB
    status, answer = web.send("POST", "/webhooks/alertmanager", ALERTMANAGER, chunks(over))
    assert status == 413
    assert "larger than" in refused_with_reason(status, answer)
    status, answer = web.send("POST", "/webhooks/gitlab", GITLAB, chunks(push().encode() + b" " * MB))
    assert status == 413


# --- 12. logs keep no credentials, capabilities or user names ---------------------------------------------

def test_no_secret_token_or_user_name_reaches_any_log_line(web):
    response_url = f"https://hooks.slack.com/commands/T1/{secrets.randbelow(10**12)}/{secrets.token_hex(12)}"
    session_webhook = f"https://oapi.dingtalk.com/robot/sendBySession?session={secrets.token_hex(16)}"
    basic_user = f"am-user-{secrets.token_hex(8)}"
    link_secret = SECRETS["DOCKYARD_LINK_SECRET"]
    token = links.make(link_secret, "/status web", "console", "alice")
    spent = links.make(link_secret, "/status api", "console", "alice")

    # Slack: a signed command, then the same body forged, then a 900 KB forged body (bolt used to log it whole).
    command = urlencode({"command": "/status", "text": "web", "user_id": "U01ALICE", "channel_id": "C0STORE",
                         "team_id": "T1", "response_url": response_url, "token": "legacy"})
    assert web.send("POST", "/slack/events", slack_headers(command), command)[0] == 200
    assert web.send("POST", "/slack/events", {**slack_headers(command), "X-Slack-Signature": "v0=" + "0" * 64},
                    command)[0] == 401
    padded = command + "&text=" + "x" * 900_000
    assert web.send("POST", "/slack/events", {**slack_headers(padded), "X-Slack-Signature": "v0=" + "0" * 64},
                    padded)[0] == 401

    # Action links as a browser uses them: the confirm page, then the form posted with the page as referer.
    assert web.send("GET", f"/actions/{token}")[0] == 200
    assert web.send("POST", f"/actions/{token}", {"Referer": f"{web.base}/actions/{token}"})[0] == 200
    assert web.send("POST", f"/actions/{token}", {"Referer": f"{web.base}/actions/{token}"})[0] == 409
    web.send("GET", f"/actions/{spent[:-3]}{quote('é')}")  # a damaged link (once a 500 logging its path)
    web.send("GET", f"/actions%2F{spent}?sink=console")  # the slash escaped: gunicorn decodes it, Flask routes it

    # GitLab: a push, and the API token sent by mistake as the webhook token.
    assert web.send("POST", "/webhooks/gitlab", GITLAB, push())[0] == 202
    assert web.send("POST", "/webhooks/gitlab", {**GITLAB, "X-Gitlab-Token": SECRETS["GITLAB_TOKEN"]},
                    push())[0] == 401

    # Alertmanager: bearer, basic auth with a user name, and a wrong bearer.
    assert web.send("POST", "/webhooks/alertmanager", ALERTMANAGER, alert_group())[0] == 202
    basic = requests.post(f"{web.base}/webhooks/alertmanager", data=alert_group(), timeout=LIVENESS_S,
                          auth=(basic_user, SECRETS["ALERTMANAGER_WEBHOOK_TOKEN"]))
    assert basic.status_code == 202
    wrong = {**ALERTMANAGER, "Authorization": f"Bearer {SECRETS['SLACK_BOT_TOKEN']}"}
    assert web.send("POST", "/webhooks/alertmanager", wrong, alert_group())[0] == 401

    # DingTalk: a signed command whose reply address is a capability, and one signed with the wrong secret.
    callback = json.dumps({"senderStaffId": "staff-alice", "sessionWebhook": session_webhook, "msgId": "m1",
                           "text": {"content": "@Dockyard /status web"}})
    assert web.send("POST", "/dingtalk/callback", dingtalk_headers(), callback)[0] == 200
    forged = {**dingtalk_headers(), "sign": dingtalk_sign(str(int(time.time() * 1000)), "not-the-secret")}
    assert web.send("POST", "/dingtalk/callback", forged, callback)[0] == 401

    # Input that used to raise, which logged the request path and the exception.
    web.send("POST", "/webhooks/alertmanager", ALERTMANAGER, DEEP_JSON)

    # gunicorn writes an access line after the response: the last request's line says the others are there too
    marker = secrets.token_hex(8)
    assert requests.get(f"{web.base}/healthz?last={marker}", timeout=LIVENESS_S).ok
    wait_until(lambda: any(marker in line for line in web.log_lines()), LIVENESS_S, "the access log")
    lines = web.log_lines()
    needles = {**SECRETS, "link token": token, "link MAC": token.split(".")[1], "spent link MAC": spent.split(".")[1],
               "Slack response_url": response_url.rsplit("/", 1)[1], "DingTalk session": session_webhook.split("=")[1],
               "basic-auth user": basic_user}
    leaks = {name: line[:300] for line in lines for name, needle in needles.items() if needle in line}
    assert not leaks, sorted(leaks)
    assert any('"POST /actions/<redacted> HTTP/1.1" 200' in line for line in lines)  # still logged, token out
    assert any("refused a Slack request" in line for line in lines)
    assert max(len(line) for line in lines) < 20_000  # no request body written out whole


# --- 13. bounded metrics --------------------------------------------------------------------------------------

def test_any_method_name_is_counted_under_a_fixed_set_of_labels(web):
    rng = random.Random(12)
    for _ in range(50):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(5, 12)))
        status, _ = web.send(method, rng.choice(["/healthz", "/webhooks/gitlab", "/nowhere"]))
        assert 400 <= status < 500
    text = requests.get(f"{web.base}/metrics", timeout=LIVENESS_S).text
    methods = set(re.findall(r'^dockyard_http_requests_total\{[^}]*method="([^"]*)"', text, re.M))
    assert "OTHER" in methods
    assert methods <= {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER"}


# --- 14. slow clients -------------------------------------------------------------------------------------

def test_ten_clients_that_never_send_their_body_do_not_stop_the_web_process(web):
    stalled = []
    try:
        for i in range(10):
            sock = socket.create_connection(("127.0.0.1", web.port), timeout=LIVENESS_S)
            path, auth = ("/webhooks/gitlab", f"X-Gitlab-Token: {SECRETS['GITLAB_WEBHOOK_TOKEN']}") if i % 2 else \
                ("/webhooks/alertmanager", f"Authorization: Bearer {SECRETS['ALERTMANAGER_WEBHOOK_TOKEN']}")
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: dockyard\r\n{auth}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: 100000\r\n\r\n".encode())  # and then not one byte of the body
            stalled.append(sock)
        assert requests.get(f"{web.base}/healthz", timeout=LIVENESS_S).json() == {"status": "ok"}
        status, answer = web.send("POST", "/webhooks/gitlab", GITLAB, push())
        assert status == 202 and json.loads(answer)["queued"]
        status, answer = web.send("POST", "/webhooks/alertmanager", ALERTMANAGER, alert_group())
        assert status == 202 and json.loads(answer)["alerts"] == 1
    finally:
        for sock in stalled:
            sock.close()


def test_a_body_that_stalls_is_answered_408_with_the_reason(web):
    with socket.create_connection(("127.0.0.1", web.port), timeout=LIVENESS_S + 10) as sock:
        sock.sendall(f"POST /webhooks/gitlab HTTP/1.1\r\nHost: dockyard\r\nX-Gitlab-Token: "
                     f"{SECRETS['GITLAB_WEBHOOK_TOKEN']}\r\nContent-Length: 1000\r\n\r\n{{\"ref\":".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        status, body = response.status, response.read()
    assert status == 408
    assert "stalled" in refused_with_reason(status, body)
