"""Prometheus alerts → chat through Debian's real Alertmanager: grouped, resolved in place, silenced from chat."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from bots.alert_messages import render
from handlers.alerts import parse
from bots.dingtalk import markdown as dingtalk_markdown
from bots.message import Message
from bots.slack.blocks import blocks
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from tests.rollout_fixtures import Chat, feed
from deploy.local.services import Alertmanager, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "am-webhook-token"


@pytest.fixture(scope="module")
def web(redis_server):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "KUBECONFIG"}, "DOCKYARD_REDIS_URL": redis_server.url,
           "ALERTMANAGER_WEBHOOK_TOKEN": TOKEN}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "handlers.app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 20, "gunicorn")
    yield base
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


@pytest.fixture(scope="module")
def am(web, tmp_path_factory):
    manager = Alertmanager(tmp_path_factory.mktemp("am"), f"{web}/webhooks/alertmanager", TOKEN).start()
    yield manager
    manager.stop()


@pytest.fixture
def live(rt, am):
    settings = Settings(**{**rt.settings.model_dump(), "alertmanager_url": am.url,
                           "alertmanager_webhook_token": SecretStr(TOKEN)})
    previous = runtime._current
    installed = runtime.install(Runtime(settings=settings, rules=rt.rules))
    yield installed
    runtime._current = previous


def fire(am, name: str, service: str, pods: list[str], resolve: bool = False, severity: str = "critical") -> None:
    now = datetime.now(timezone.utc)
    alerts = [{"labels": {"alertname": name, "service": service, "team": "storefront", "severity": severity,
                          "namespace": "shop-prod", "pod": pod},
               "annotations": {"summary": f"{name} on {service}", "description": f"{pod} is unhappy"},
               "generatorURL": f"http://prometheus.local/graph?g0.expr={name}",
               "startsAt": (now - timedelta(minutes=5)).isoformat(),
               **({"endsAt": now.isoformat()} if resolve else {})} for pod in pods]
    assert requests.post(f"{am.url}/api/v2/alerts", json=alerts, timeout=10).status_code == 200


def messages_about(rt, name: str) -> list[dict]:
    return [m for m in feed(rt) if name in m["text"]]


def pump(rt, until, what: str, timeout: float = 20) -> None:
    """Run the workers until `until()` holds: Alertmanager calls Dockyard on its own schedule."""
    def step() -> bool:
        DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
        return until()
    wait_until(step, timeout, what, interval=0.3)


def test_group_is_one_message_then_resolved_in_place(live, am):
    fire(am, "HighErrorRate", "web", ["web-1", "web-2"], severity="warning")  # one route: the team's channel
    # Alertmanager may flush the group before both alerts are in, then update it: wait for both.
    pump(live, lambda: any("[FIRING:2]" in m["text"] for m in messages_about(live, "HighErrorRate")),
         "the firing notification")
    about = messages_about(live, "HighErrorRate")
    assert len({m["ref"] for m in about}) == 1
    first = [m for m in about if "[FIRING:2]" in m["text"]][-1]
    assert first["text"].startswith("⚠ [FIRING:2] HighErrorRate web")
    assert "HighErrorRate on web" in first["text"] and "pod=web-1" in first["text"] and "pod=web-2" in first["text"]
    assert "[Silence 1h]" in first["text"] and "http://prometheus.local/graph" in first["text"]
    fire(am, "HighErrorRate", "web", ["web-1", "web-2"], resolve=True, severity="warning")
    pump(live, lambda: any(m["text"].startswith("✔ [RESOLVED] HighErrorRate web")
                           for m in messages_about(live, "HighErrorRate")), "the resolved update")
    update = [m for m in messages_about(live, "HighErrorRate") if m["text"].startswith("✔ [RESOLVED]")][-1]
    assert update["updated"] and update["ref"] == first["ref"]  # the same message, edited


def test_silence_from_chat_reaches_alertmanager_and_suppresses_notifications(live, am):
    chat = Chat(live)
    [reply] = chat("dave", '/silence DiskAlmostFull 2h "disk swap tonight"')
    assert reply["text"].startswith("✔ silenced DiskAlmostFull until ")
    silence_id = reply["message"]["fields"][0][1]
    silences = requests.get(f"{am.url}/api/v2/silences", timeout=5).json()
    [mine] = [s for s in silences if s["id"] == silence_id]
    assert mine["status"]["state"] == "active" and mine["createdBy"] == "dave"
    assert mine["matchers"][0]["name"] == "alertname" and mine["matchers"][0]["value"] == "DiskAlmostFull"
    fire(am, "DiskAlmostFull", "api", ["api-1"])
    fire(am, "CanaryMarker", "api", ["api-1"])  # a control alert in another group does arrive
    pump(live, lambda: messages_about(live, "CanaryMarker"), "the control alert")
    time.sleep(3)  # past group_wait and group_interval for the silenced one
    DockyardSimpleWorker(list(QUEUES), connection=live.redis).work(burst=True)
    assert messages_about(live, "DiskAlmostFull") == [m for m in messages_about(live, "DiskAlmostFull")
                                                      if m["text"].startswith("✔ silenced")]
    listed = chat("dave", "/silence list")[-1]["text"]
    assert silence_id in listed and "alertname=DiskAlmostFull" in listed
    assert chat("dave", f"/silence expire {silence_id}")[-1]["text"] == f"✔ silence {silence_id} expired by dave"
    assert [s["status"]["state"] for s in requests.get(f"{am.url}/api/v2/silences", timeout=5).json()
            if s["id"] == silence_id] == ["expired"]


def test_thousand_alert_group_is_one_message_within_platform_limits(live, am):
    fire(am, "NodeFilesystemFull", "ledger", [f"ledger-{i:04d}" for i in range(1000)], severity="warning")
    # Alertmanager may flush the first alerts it has after group_wait, then update the group: one message.
    pump(live, lambda: any("[FIRING:1000]" in m["text"] for m in messages_about(live, "NodeFilesystemFull")),
         "the whole group", timeout=30)
    about = messages_about(live, "NodeFilesystemFull")
    assert len({m["ref"] for m in about}) == 1 and not about[0]["updated"]
    message = [m for m in about if "[FIRING:1000]" in m["text"]][-1]
    assert message["text"].startswith("⚠ [FIRING:1000] NodeFilesystemFull ledger")
    assert "and 980 more (900 truncated by Alertmanager)" in message["text"]  # max_alerts: 100 in its config
    model = Message.from_dict(message["message"])
    assert len(blocks(model)) <= 50
    assert len(json.dumps(dingtalk_markdown.payload(model), ensure_ascii=False).encode()) <= 20_000


def test_wrong_credentials_and_bad_payloads_are_refused(web):
    good = {"version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing", "receiver": "dockyard",
            "groupLabels": {"alertname": "X"}, "commonLabels": {"alertname": "X"}, "commonAnnotations": {},
            "externalURL": "http://am", "truncatedAlerts": 0,
            "alerts": [{"status": "firing", "labels": {"alertname": "X"}, "annotations": {}, "startsAt": "",
                        "endsAt": "", "generatorURL": "", "fingerprint": "abc"}]}
    url = f"{web}/webhooks/alertmanager"
    assert requests.post(url, json=good, timeout=5).status_code == 401
    assert requests.post(url, json=good, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    assert requests.post(url, json=good, auth=("am", TOKEN), timeout=5).status_code == 202  # basic auth works too
    bad = requests.post(url, data="{nope", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert bad.status_code == 400 and "malformed Alertmanager payload" in bad.json()["error"]
    missing = requests.post(url, json={**good, "alerts": []}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert missing.status_code == 400 and "alerts must be a non-empty list" in missing.json()["error"]
    huge = requests.post(url, data=b"x" * (1024 * 1024 + 1), headers={"Authorization": f"Bearer {TOKEN}",
                                                                      "Content-Type": "application/json"}, timeout=5)
    assert huge.status_code == 413


def test_rendering_is_pure_and_routes_by_any_label(example_rules):
    from rules import routing

    payload = {"version": "4", "groupKey": "k", "status": "firing", "receiver": "r",
               "groupLabels": {"alertname": "OOM"}, "commonLabels": {"alertname": "OOM", "container": "worker",
                                                                     "team": "payments", "severity": "critical"},
               "commonAnnotations": {"summary": "container OOM"}, "externalURL": "", "truncatedAlerts": 0,
               "alerts": [{"status": "firing", "labels": {"pod": "ledger-1", "container": "worker"},
                           "annotations": {}, "startsAt": "2026-11-22T10:00:00Z", "fingerprint": "f1"}]}
    group = parse(payload)
    assert render(group).title == "[FIRING:1] OOM"
    assert routing.channels_for(example_rules, group.labels) == ["oncall", "payments"]  # critical, then team


OWNED_ROUTING = """
channels:
  console:    {sink: console}
  oncall:     {sink: console}
  storefront: {sink: dingtalk, robot: storefront}
  payments:   {sink: dingtalk, robot: payments}
routes:
  - match: {team: storefront}
    to: [storefront]
  - match: {team: payments}
    to: [payments]
default: [console]
"""


def test_an_alert_labelled_only_with_a_service_reaches_the_owning_teams_channel(rt, work, tmp_path):
    """The issue's catalog, where payments owns api: `service: api` alone lands in payments' DingTalk group."""
    import shutil

    from handlers.app import create_app
    from rules import load_rules
    from tests.fakes.dingtalk_api import DingTalkAPI

    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    catalog = (rules_dir / "catalog.yaml").read_text()
    api_at = catalog.index("\n  api:")
    (rules_dir / "catalog.yaml").write_text(
        catalog[:api_at] + catalog[api_at:].replace("team: storefront", "team: payments", 1))
    (rules_dir / "routing.yaml").write_text(OWNED_ROUTING)
    robots = {"tok-storefront": "SECstore", "tok-payments": "SECpay"}
    api = DingTalkAPI(robots).start()
    try:
        settings = Settings(**{**rt.settings.model_dump(), "alertmanager_webhook_token": SecretStr(TOKEN),
                               "dingtalk_robot_secrets": {name: SecretStr(robots[f"tok-{name}"])
                                                          for name in ("storefront", "payments")},
                               "dingtalk_robots": {
                                   "storefront": SecretStr(f"{api.url}/robot/send?access_token=tok-storefront"),
                                   "payments": SecretStr(f"{api.url}/robot/send?access_token=tok-payments")}})
        live = runtime.install(Runtime(settings=settings, rules=load_rules(rules_dir)))
        client = create_app(rt=live).test_client()

        def post(name: str, labels: dict[str, str]) -> None:
            body = {"version": "4", "groupKey": f"{{}}:{{alertname=\"{name}\"}}", "status": "firing",
                    "receiver": "dockyard", "groupLabels": {"alertname": name},
                    "commonLabels": {"alertname": name, **labels}, "commonAnnotations": {"summary": name},
                    "externalURL": "http://am", "truncatedAlerts": 0,
                    "alerts": [{"status": "firing", "labels": {"alertname": name, **labels}, "annotations": {},
                                "startsAt": "2026-11-22T10:00:00Z", "endsAt": "", "generatorURL": "",
                                "fingerprint": name}]}
            answer = client.post("/webhooks/alertmanager", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 202

        post("ApiLatencyHigh", {"service": "api"})
        post("WebPodRestarting", {"namespace": "shop-prod", "pod": "web-5d8f7c9b4-x2x9k"})
        post("ApiToldStorefront", {"service": "api", "team": "storefront"})  # an explicit team label wins
        work()
        work()  # the DingTalk outbox flush each robot queued
        by_robot = {token: "\n".join((c["payload"].get("markdown") or c["payload"].get("actionCard"))["text"]
                                     for c in api.calls if c["kind"] == "robot" and c["token"] == token)
                    for token in robots}
        assert "ApiLatencyHigh" in by_robot["tok-payments"] and "ApiLatencyHigh" not in by_robot["tok-storefront"]
        assert "WebPodRestarting" in by_robot["tok-storefront"]
        assert "ApiToldStorefront" in by_robot["tok-storefront"]
        assert "ApiToldStorefront" not in by_robot["tok-payments"]
        assert not [c for c in api.calls if c["kind"] == "refused"]  # every post signed with its robot's secret
        assert "team=" not in by_robot["tok-payments"]  # the label used for routing is not shown as the alert's
    finally:
        api.stop()
