"""The daily digest: each team hears its last 24 hours and what is still open, once a day."""

from __future__ import annotations

import json
import time

from core import audit
from jobs import digest
from scheduler.loop import Scheduler
from state import locks
from tests.rollout_fixtures import feed


def test_each_team_gets_its_day_and_what_is_open(rt, work):
    record = lambda who, command, target, result: audit.record(  # noqa: E731
        rt.redis, audit.Entry(who, "console", command, target, result))
    record("alice", "/deploy web v7 to prod", "web", "accepted")
    record("alice", "/deploy web promote", "web", "accepted")  # not a deploy of its own
    record("bob", "/rollback ledger", "ledger", "accepted")
    record("carol", "/approve 3f9a1c", "web", "approved")
    record("bob", "/deploy ledger v2", "ledger", "refused")  # refused: nothing happened
    audit.record(rt.redis, audit.Entry("alertmanager", "alertmanager",
                                       'firing {}:{alertname="HighErrorRate", service="ledger"}', "HighErrorRate",
                                       "accepted"))
    rt.redis.set("dockyard:incident:web:prod:OOMKilled", json.dumps(
        {"service": "web", "env": "prod", "reason": "OOMKilled", "status": "open", "count": 3, "first": time.time()}))
    locks.acquire(rt.redis, "api", "test", locks.Holder("r-1", "alice", "canary 10%", "canary"), ttl=3600)

    leader = Scheduler(rt, identity="leader")
    leader.token = leader.lease.acquire(rt.redis)
    assert leader.daily_digest() is True
    assert leader.daily_digest() is False  # once a day, whichever replica leads
    work()
    sent = {m["message"]["title"].split(":")[0]: m["message"] for m in feed(rt) if "the last 24 hours" in m["text"]}
    storefront, payments = sent["storefront"], sent["payments"]
    assert dict(map(tuple, storefront["fields"]))["deploys"] == "1"
    lines = "\n".join(storefront["lines"])
    assert "deploys (1): web v7 to prod by alice" in lines
    assert "approvals (1): 3f9a1c approved by carol" in lines
    assert "incidents (1): web (prod) OOMKilled ×3" in lines
    assert "still open (2): incident web (prod) OOMKilled; canary of api (test) by alice" in lines
    pay = "\n".join(payments["lines"])
    assert "rollbacks (1): ledger by bob" in pay and "alerts (1): firing ledger" in pay
    assert "deploys" not in pay  # the refused one is not news


def test_a_quiet_day_says_so(rt, work):
    assert digest.daily("2026-11-28") == 2  # both example teams, on the console
    work()
    quiet = [m for m in feed(rt) if "the last 24 hours (2026-11-28)" in m["text"]]
    assert len(quiet) == 2 and all("a quiet day" in m["text"] for m in quiet)
