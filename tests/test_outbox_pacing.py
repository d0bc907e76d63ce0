"""The outbox's pace: a few sends at once, then one per pace while a backlog waits, every window respected.
room() is pure; the last test runs the Procfile's notifier on a backlog of thousands of alert jobs."""

from __future__ import annotations

import pytest

from bots.dingtalk.outbox import QUOTA as DINGTALK
from bots.feishu.delivery import ROBOT as FEISHU
from bots.sinks.outbox import room


def test_a_quiet_destination_takes_a_burst_at_once():
    assert room([], DINGTALK, now=1000.0) == (DINGTALK.burst, 0.0)


def test_after_the_burst_one_send_per_pace():
    burst = [1000.0] * DINGTALK.burst  # a storm's first events, each sent alone as it came
    assert DINGTALK.pace == 3.0  # 20 a minute, spread evenly
    assert room(burst, DINGTALK, now=1000.0) == (0, pytest.approx(3.0))
    assert room(burst, DINGTALK, now=1003.0)[0] == 1
    assert room(burst + [1003.0], DINGTALK, now=1003.0) == (0, pytest.approx(3.0))
    assert room(burst + [1003.0], DINGTALK, now=1006.0)[0] == 1


def test_credit_comes_back_after_a_quiet_spell():
    sent = [1000.0 + 3 * n for n in range(10)]
    assert room(sent, DINGTALK, now=1027.0 + 3 * DINGTALK.burst)[0] == DINGTALK.burst


def test_the_minute_window_still_caps_what_pacing_would_allow():
    # 18 sends a minute ago at once (before pacing, or edits): pacing has credit again, the minute has 2 slots
    sent = [1000.0 + 0.1 * n for n in range(18)]
    assert room(sent, DINGTALK, now=1059.0)[0] == 2
    full = [1000.0 + 0.05 * n for n in range(20)]
    assert room(full, DINGTALK, now=1059.5) == (0, pytest.approx(0.5))  # until the oldest leaves the minute


def test_the_pace_follows_the_tightest_limit():
    assert FEISHU.pace == pytest.approx(0.6)  # 100 a minute is tighter than 5 a second
    assert room([1000.0] * 5, FEISHU, now=1000.0) == (0, pytest.approx(1.0))  # the second's 5 are used
    assert room([1000.0] * 5, FEISHU, now=1001.0)[0] == 1  # the next second's first; then one per 0.6 s
    assert room([1000.0] * 5 + [1001.0], FEISHU, now=1001.0) == (0, pytest.approx(0.2))  # credit since 1000
