"""The outbox's pace: a few flush rounds at once, then one per pace while a storm lasts; a round sends what
waits alone only while few wait, else in digests; every window of the platform is respected. Pure."""

from __future__ import annotations

import pytest

from bots.dingtalk.outbox import QUOTA as DINGTALK
from bots.feishu.delivery import ROBOT as FEISHU
from bots.message import Message
from bots.sinks.outbox import plan, room


def test_a_quiet_destination_may_use_its_whole_window_at_once():
    assert room([], [], DINGTALK, now=1000.0) == (20, 0.0)


def test_after_a_burst_of_rounds_one_round_per_pace():
    storm = [1000.0] * DINGTALK.burst  # a storm's first events, each sent alone in a round of its own
    assert DINGTALK.pace == 3.0  # 20 a minute, spread evenly
    assert room(storm, storm, DINGTALK, now=1000.0) == (0, pytest.approx(3.0))
    assert room(storm, storm, DINGTALK, now=1003.0) == (15, 0.0)  # a round may send what the minute has left
    sends, rounds = storm + [1003.0] * 3, storm + [1003.0]  # that round sent three digests
    assert room(sends, rounds, DINGTALK, now=1003.0) == (0, pytest.approx(3.0))
    assert room(sends, rounds, DINGTALK, now=1006.0) == (12, 0.0)


def test_credit_comes_back_after_a_quiet_spell():
    rounds = [1000.0 + 3 * n for n in range(10)]
    assert room(rounds, rounds, DINGTALK, now=1027.0 + 3 * (DINGTALK.burst - 1))[0] > 0
    later = rounds + [1027.0 + 3 * (DINGTALK.burst - 1)] * DINGTALK.burst  # the burst again, at once
    assert room(later, later, DINGTALK, now=1027.0 + 3 * (DINGTALK.burst - 1))[0] == 0


def test_the_minute_window_caps_a_round():
    sends = [1000.0 + 0.1 * n for n in range(18)]  # a minute ago, in two rounds
    assert room(sends, [1000.0, 1001.0], DINGTALK, now=1059.0)[0] == 2
    full = [1000.0 + 0.05 * n for n in range(20)]
    assert room(full, [1000.0], DINGTALK, now=1059.5) == (0, pytest.approx(0.5))  # until the oldest leaves


def test_the_pace_follows_the_tightest_limit():
    assert FEISHU.pace == pytest.approx(0.6)  # 100 a minute is tighter than 5 a second
    assert room([1000.0] * 5, [1000.0], FEISHU, now=1000.0) == (0, pytest.approx(1.0))  # the second's 5 are used
    assert room([1000.0] * 5, [1000.0], FEISHU, now=1001.0) == (5, 0.0)


def test_a_round_sends_a_few_alone_and_more_as_digests():
    few = [Message(title=f"alert {i}") for i in range(DINGTALK.burst)]
    assert plan(DINGTALK, few, slots=20) == [[m] for m in few]
    more = [Message(title=f"alert {i}") for i in range(DINGTALK.burst + 1)]
    assert plan(DINGTALK, more, slots=20) == [more]  # one digest, not six of the minute's twenty


# --- the Procfile's notifier on a backlog ------------------------------------------------------------

@pytest.fixture
def stack():
    """Redis, a DingTalk robot stand-in allowing 20 messages a minute, and Procfile processes on demand."""
    from bench.stack import Stack
    from core import runtime

    previous = runtime._current
    made = Stack()
    yield made
    made.close()
    runtime._current = previous


def test_a_backlog_of_alert_jobs_does_not_hold_back_the_robot(stack):
    from rq import Queue

    from bench.stack import ALERTMANAGER_TOKEN
    from core import runtime
    from deploy.local.services import wait_until
    from handlers.app import create_app
    from tests.fakes.alertmanager import one_alert_group

    backlog = 2000
    client = create_app(rt=runtime.install(stack.runtime())).test_client()
    for i in range(backlog):
        group = one_alert_group(f"Backlog{i:04d}", f"web-{i:05x}", i, "http://am.example:9093",
                                f"http://prometheus.example/graph?i={i}")
        assert client.post("/webhooks/alertmanager", json=group,
                           headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}).status_code == 202
    notify = Queue("notify", connection=stack.redis)
    assert notify.count == backlog
    stack.start("notifier")  # as the Procfile runs it: outbox first, then notify, no fork per job

    robot = lambda: [c for c in stack.dingtalk.calls if c["kind"] == "robot"]  # noqa: E731
    waiting_then: list[int] = []

    def digest_arrived() -> bool:
        waiting = notify.count
        if len(robot()) > DINGTALK.burst:  # past the first few, sent alone: a paced round's digest
            waiting_then.append(waiting)
            return True
        return False

    wait_until(digest_arrived, 120, "a digest from the outbox")
    # The flush ran while thousands of alert jobs still waited, not after them.
    assert waiting_then[0] > 0
    assert "notifications" in stack.dingtalk.robot_texts()[DINGTALK.burst]
    assert not [c for c in stack.dingtalk.calls if c["kind"] in ("too_fast", "refused")]
