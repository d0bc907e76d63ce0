"""/status and /logs show what operators look at, on the real control plane.

kwok serves every pod's log from deploy/local/pod-logs/ (running.log: 240 numbered lines; previous.log:
the last words of a container that ran out of memory), through the apiserver like a kubelet would.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml
from pydantic import SecretStr

from bots.dingtalk import sign
from core import runtime
from deploy import fetching
from deploy.kube import connect
from deploy.local.services import wait_until
from handlers.app import create_app
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from tests.fakes.dingtalk_api import DingTalkAPI
from tests.rollout_fixtures import Chat, live_runtime, write_rules

NS = "shop-test"
SERVICES = {"rdst": {"router": "istio", "replicas": 2}, "rdlg": {"router": "replicas", "replicas": 2},
            "rdpv": {"router": "replicas", "replicas": 2}}
APP_SECRET = "app-secret"


@pytest.fixture
def world(redis, redis_server, cluster, tmp_path):
    rules_dir = write_rules(tmp_path)
    catalog = yaml.safe_load((rules_dir / "catalog.yaml").read_text())
    for name, spec in SERVICES.items():
        catalog["services"][name] = {"team": "storefront", "language": "node", "git": f"shop/{name}", "port": 3000,
                                     "router": spec["router"], "environments": {"test": {
                                         "namespace": NS, "replicas": spec["replicas"], "resources": "0.5C1G",
                                         "progress_deadline": 6}}}
    (rules_dir / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    ding = DingTalkAPI({}).start()
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, rules_dir, cluster.dockyard_kubeconfig,
                                      dingtalk_app_secret=SecretStr(APP_SECRET), dingtalk_reply_origins=(ding.url,)))
    admin = connect(cluster.admin_kubeconfig)  # looks at pods and injects faults, which Dockyard may not
    yield type("World", (), {"rt": rt, "chat": Chat(rt), "admin": admin, "ding": ding})
    ding.stop()
    for name in SERVICES:
        for track in ("", "-canary", "-preview"):
            if fetching.read_deployment(admin, NS, name + track) is not None:
                admin.apps.delete_namespaced_deployment(name + track, NS)
    runtime._current = previous


def sections(message: dict) -> dict[str, list[str]]:
    """A /logs answer's lines by the pod heading them ("── <pod> ..." → the lines under it)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in message["lines"]:
        if line.startswith("── "):
            current = line
            out[current] = []
        elif current is not None and not line.startswith("never restarted"):
            out[current].append(line)
    return out


def test_status_lists_each_tracks_pods_with_node_ip_image_ready_restarts_and_age(world):
    world.chat("alice", "/deploy rdst v1")
    world.chat("alice", "/deploy rdst v2 canary 20%")
    world.chat("alice", "/deploy rdst v3 preview")
    [status] = world.chat("alice", "/status rdst")
    text = status["text"]
    for track, tag, count in (("stable", "v1", 2), ("canary", "v2", 1), ("preview", "v3", 1)):
        assert f"  test {track} pods (name, node, IP, image, ready, restarts, age):" in text
        pods = fetching.pods(world.admin, NS, {"app": "rdst", "track": track})
        assert len(pods) == count
        for pod in pods:
            row = f"    {pod.metadata.name}  {pod.spec.node_name}  {pod.status.pod_ip}  rdst:{tag}  ready  0  "
            assert re.search(re.escape(row) + r"\d+[smhd]\n", text + "\n"), (row, text)
    assert text.index("test stable pods") < text.index("test canary pods") < text.index("test preview pods")


def test_logs_tail_gives_every_line_asked_for_and_previous_needs_a_restart(world):
    world.chat("alice", "/deploy rdlg v1")
    [logs] = world.chat("alice", "/logs rdlg --tail 200")
    assert logs["text"].startswith("ℹ rdlg (test) logs, last 200 lines per pod")
    per_pod = sections(logs["message"])
    assert len(per_pod) == 2
    for heading, lines in per_pod.items():
        assert "left out" not in heading
        assert len(lines) == 200  # not cut at 50: the console carries them all
        assert lines[0].endswith("line 41") and lines[-1].endswith("line 240")
    assert "left out" not in logs["text"]
    [none] = world.chat("alice", "/logs rdlg --previous")
    assert none["text"].startswith("ℹ rdlg (test): no pod has restarted, so there is no previous container to show")


def test_logs_fit_a_dingtalk_message_and_say_what_was_left_out(world):
    world.chat("alice", "/deploy rdlg v1")
    client = create_app(rt=world.rt).test_client()
    ts = str(int(time.time() * 1000))
    answered = client.post("/dingtalk/callback", json={
        "msgtype": "text", "text": {"content": "@Dockyard /logs rdlg --tail 200"}, "senderStaffId": "alice01",
        "senderNick": "alice", "conversationId": "cid1", "sessionWebhook": f"{world.ding.url}/session/logs",
        "sessionWebhookExpiredTime": int(time.time() * 1000) + 3_600_000},
        headers={"timestamp": ts, "sign": sign.sign(ts, APP_SECRET)})
    assert answered.status_code == 200
    DockyardSimpleWorker(list(QUEUES), connection=world.rt.redis).work(burst=True)
    [reply] = [c["payload"] for c in world.ding.calls if c["kind"] == "session"]
    assert len(json.dumps(reply, ensure_ascii=False).encode()) <= 20_000  # DingTalk's limit for one message
    text = reply["markdown"]["text"]
    assert "more lines" not in text  # nothing was cut off the end by the sink: /logs chose what to leave out
    notes = re.findall(r"newest (\d+) of 200 lines; (\d+) older left out to fit one message", text)
    assert len(notes) == 2 and all(int(shown) + int(cut) == 200 and int(shown) >= 50 for shown, cut in notes)
    assert text.count("line 240") == 2  # each pod's newest line is there
    assert "ask for fewer" in text


def test_logs_previous_shows_the_crashed_containers_last_lines(world):
    world.chat("alice", "/deploy rdpv v1")
    crashed, healthy = sorted(p.metadata.name for p in fetching.pods(world.admin, NS, {"app": "rdpv"}))
    world.admin.core.patch_namespaced_pod(crashed, NS, {"metadata": {"annotations": {
        "dockyard.dev/simulate": "oom", "dockyard.dev/simulate-interval": "1s"}}})
    try:
        wait_until(lambda: (world.admin.core.read_namespaced_pod(crashed, NS).status.container_statuses[0]
                            .restart_count or 0) >= 1, 20, "an OOM kill")
        [logs] = world.chat("alice", "/logs rdpv --previous --tail 3")
        assert logs["text"].startswith("ℹ rdpv (test) previous (crashed) container's logs, last 3 lines per pod")
        [(heading, lines)] = sections(logs["message"]).items()
        assert re.fullmatch(rf"── {crashed} \(previous container: OOMKilled, exit 137, at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC, restarted \d+×\)",
                            heading)
        assert lines == ["WARN  heap at 97% of the container limit",
                         "ERROR allocation failed while building the order report",
                         "FATAL out of memory: the container reached its memory limit and was killed"]
        assert f"never restarted, so no previous container: {healthy}" in logs["text"]
        [running] = world.chat("alice", "/logs rdpv --tail 1")
        assert [lines for lines in sections(running["message"]).values()] == [
            ["INFO  GET /healthz 200 6ms line 240"]] * 2
    finally:
        world.admin.core.patch_namespaced_pod(crashed, NS, {"metadata": {"annotations": {
            "dockyard.dev/simulate": None}}})
