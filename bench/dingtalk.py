"""A burst of alert groups → one DingTalk robot that takes 20 messages a minute (the stand-in refuses the
21st as DingTalk does): POSTed to the web process's /webhooks/alertmanager, run by the Procfile's
`notifier`, sent through the real outbox (digests within the quota). Timed until every alert name has
arrived; counts messages, refusals and alerts lost (none may be).

With DOCKYARD_BENCH_DINGTALK_PEER naming a prometheus-webhook-dingtalk binary built in the root of its
source tree (it reads its templates from there; nothing here builds or fetches it), the same burst goes to it
too, on a robot of its own, in the same run.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench.report import Figure
from bench.stack import ALERTMANAGER_TOKEN, Stack
from deploy.local.services import free_port, wait_until
from tests.fakes.alertmanager import one_alert_group
from tests.fakes.dingtalk_api import DingTalkAPI

SECTION = "dingtalk burst"
PER_MINUTE = 20
NAME = re.compile(r"Burst\d{4}")
WAIT_SECONDS = 360  # what has not arrived by then counts as lost (digests carry 500 events in one minute's quota)


def group(i: int) -> dict:
    return one_alert_group(f"Burst{i:04d}", f"web-7d9f8b6c5-{i:05x}", i, "http://alertmanager.example:9093",
                           f"http://prometheus.example/graph?g0.expr=latency&i={i}")


def run(stack: Stack, events: int = 500) -> list[Figure]:
    api = stack.dingtalk
    base = stack.web()
    stack.start("notifier", "worker")
    calls_before = len(api.calls)
    session = requests.Session()
    started, wall = time.monotonic(), time.time()
    for i in range(events):
        answer = session.post(f"{base}/webhooks/alertmanager", json=group(i), timeout=10,
                              headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"})
        if answer.status_code != 202:
            raise RuntimeError(f"the web process answered {answer.status_code} to alert group {i}: {answer.text[:200]}")
    posted = time.monotonic() - started
    deadline = started + WAIT_SECONDS
    first = None
    while time.monotonic() < deadline:
        robot = [c for c in api.calls[calls_before:] if c["kind"] == "robot"]
        if robot and first is None:
            first = robot[0]["at"] - wall  # the stand-in stamps each message with its wall-clock arrival
        seen = {n for text in api.robot_texts() for n in NAME.findall(text)}
        if len(seen) >= events:
            break
        stack.check_alive()
        time.sleep(0.2)
    took = time.monotonic() - started
    calls = api.calls[calls_before:]
    messages = sum(1 for c in calls if c["kind"] == "robot")
    refused = sum(1 for c in calls if c["kind"] in ("too_fast", "refused"))
    seen = {n for text in api.robot_texts() for n in NAME.findall(text)}
    lost = events - len(seen)
    # The earliest the last message could go at 20 a minute: the minute it falls in.
    floor = (math.ceil(messages / PER_MINUTE) - 1) * 60 if messages else 0
    # After the last group was accepted, how long the robot still waited for the rest: the quota would
    # have taken them at once (up to 20 a minute), so this is the pace's idle time.
    robot_at = [c["at"] - wall for c in calls if c["kind"] == "robot"]
    tail = max(0.0, max(robot_at, default=took) - posted)
    idle_goal = 2 * 60 / PER_MINUTE
    return [
        Figure(SECTION, f"{events} alert groups → all delivered", took, "s", n=events, baseline="POSTing the burst",
               baseline_value=posted, goal="none lost, none refused", met=lost == 0 and refused == 0,
               note=f"quota floor for {messages} messages: {floor} s"),
        Figure(SECTION, "first message after", first if first is not None else took, "s", n=1),
        Figure(SECTION, "last message after the burst was accepted", tail, "s", n=events,
               goal=f"≤ 2 messages' worth of the minute ({idle_goal:.0f} s)",
               met=tail <= idle_goal if messages <= PER_MINUTE else None,
               note="" if messages <= PER_MINUTE else f"{messages} messages: more than a minute's quota"),
        Figure(SECTION, "messages sent", messages, "messages", n=events, note=f"{events / max(messages, 1):.0f} events a message"),
        Figure(SECTION, "alerts lost", lost, "events", n=events, goal="0", met=lost == 0),
        Figure(SECTION, "refused by the robot (too fast)", refused, "messages", n=messages, goal="0", met=refused == 0),
    ] + (peer(os.environ["DOCKYARD_BENCH_DINGTALK_PEER"], events) if os.environ.get("DOCKYARD_BENCH_DINGTALK_PEER")
         else [])


PEER_TOKEN, PEER_SECRET = "bench-peer-robot", "SECbenchpeer"
PEER_SETTLE_SECONDS = 15  # it does not retry: what has not arrived this long after the burst never will


def peer(binary: str, events: int) -> list[Figure]:
    """The same burst through prometheus-webhook-dingtalk to a robot of its own: what arrived, what was refused."""
    api = DingTalkAPI({PEER_TOKEN: PEER_SECRET}).start()
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-peer-"))
    (work / "config.yml").write_text(
        f"targets:\n  burst:\n    url: {api.url}/robot/send?access_token={PEER_TOKEN}\n    secret: {PEER_SECRET}\n")
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={work / 'config.yml'}", f"--web.listen-address=127.0.0.1:{port}"],
                            cwd=Path(binary).resolve().parent,  # it reads template/default.tmpl from there
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok, 30, "the peer")
        session, answers = requests.Session(), {}
        started = time.monotonic()
        for i in range(events):
            code = session.post(f"http://127.0.0.1:{port}/dingtalk/burst/send", json=group(i), timeout=30).status_code
            answers[code] = answers.get(code, 0) + 1
        posted = time.monotonic() - started
        time.sleep(PEER_SETTLE_SECONDS)
    finally:
        proc.terminate()
        proc.wait(10)
        api.stop()
    seen = {n for text in api.robot_texts() for n in NAME.findall(text)}
    messages = sum(1 for c in api.calls if c["kind"] == "robot")
    refused = sum(1 for c in api.calls if c["kind"] in ("too_fast", "refused"))
    not_ok = sum(n for code, n in answers.items() if code >= 300)
    return [
        Figure(SECTION, f"peer prometheus-webhook-dingtalk: {events} groups, delivered", len(seen), "events",
               n=events, note=f"posted in {posted:.1f} s; {not_ok} answered non-2xx ({answers})"),
        Figure(SECTION, "peer: messages sent / refused by the robot", messages, "messages", n=events,
               note=f"{refused} refused (too fast)"),
        Figure(SECTION, "peer: alerts lost", events - len(seen), "events", n=events),
    ]
