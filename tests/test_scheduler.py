"""The scheduler process: timed deploys fire at their time, once, whichever replica leads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job

from bots.commands import Help
from core import runtime
from deploy import fetching
from deploy.kube import connect
from deploy.local.services import wait_until
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from scheduler.loop import Scheduler
from state import schedules
from state.lease import Lease
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def chat(redis, redis_server, cluster, tmp_path):
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, write_rules(tmp_path), cluster.dockyard_kubeconfig))
    yield Chat(rt)
    runtime._current = previous


class Replicas:
    """`./dockyard scheduler` processes, as the Procfile runs them."""

    def __init__(self, rt, count: int):
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env.update(DOCKYARD_REDIS_URL=rt.settings.redis_url, DOCKYARD_RULES_DIR=str(rt.settings.rules_dir))
        self.procs = [subprocess.Popen([sys.executable, "-m", "cli", "scheduler"], cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(count)]
        self.rt = rt

    def leader(self) -> subprocess.Popen:
        """The replica holding the lease (its identity carries its pid)."""
        def held() -> bool:
            return self.rt.redis.get(Lease("scheduler", "").key) is not None
        wait_until(held, 30, "a scheduler replica to take the lease")
        holder = self.rt.redis.get(Lease("scheduler", "").key).decode()
        return next(p for p in self.procs if f":{p.pid}:" in holder)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def fired(rt, schedule_id: str) -> bool:
    return Job.exists(f"scheduled-{schedule_id}", connection=rt.redis)


def test_a_timed_deploy_is_asked_now_and_runs_at_its_time(chat, cluster):
    when = (datetime.now(timezone.utc) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    replies = chat("alice", f"/deploy roll v1 at {when}")
    assert replies[-1]["text"].startswith("✔ scheduled s") and f"/deploy roll v1 at {when}" in replies[-1]["text"]
    ident = replies[-1]["text"].split()[2].rstrip(":")
    listed = chat("alice", "/schedule list")
    assert ident in listed[-1]["text"] or any(ident in line for line in listed[-1]["message"]["lines"])
    kube = connect(cluster.dockyard_kubeconfig)
    assert fetching.read_deployment(kube, "shop-test", "roll") is None or \
        not fetching.image_of(fetching.read_deployment(kube, "shop-test", "roll")).endswith(":v1")
    replicas = Replicas(chat.rt, 1)
    try:
        wait_until(lambda: fired(chat.rt, ident), 30, "the timed deploy to fire")
    finally:
        replicas.stop()
    DockyardSimpleWorker(list(QUEUES), connection=chat.rt.redis).work(burst=True)
    assert fetching.image_of(fetching.read_deployment(kube, "shop-test", "roll")).endswith(":v1")
    texts = [m["text"] for m in feed(chat.rt)]
    assert any(t.startswith(f"ℹ {ident} is due: /deploy roll v1") for t in texts)  # the team hears it start
    assert schedules.pending(chat.rt.redis) == []


def test_cancel_takes_a_timed_change_off(chat):
    replies = chat("alice", "/deploy roll v2 in 2h")
    ident = replies[-1]["text"].split()[2].rstrip(":")
    assert chat("bob", f"/schedule cancel {ident}")[0]["refused"]  # bob may not deploy storefront's services
    cancelled = chat("alice", f"/schedule cancel {ident}")
    assert cancelled[-1]["text"].startswith(f"✔ cancelled {ident}: /deploy roll v2 in 2h (by alice)")
    assert schedules.pending(chat.rt.redis) == []


def test_the_standby_fires_the_next_change_once_when_the_leader_dies(rt, work):
    replicas = Replicas(rt, 2)
    try:
        leader = replicas.leader()
        first = schedules.add(rt.redis, time.time() + 1, Help().to_dict(), "/help", "alice", {"sink": "console"})
        wait_until(lambda: fired(rt, first.id), 20, "the first change to fire")
        leader.kill()  # SIGKILL: no goodbye, the lease runs out on its own
        second = schedules.add(rt.redis, time.time() + 2, Help().to_dict(), "/help", "alice", {"sink": "console"})
        wait_until(lambda: fired(rt, second.id), 30, "the standby to take over and fire the second change")
        assert replicas.leader() is not leader
        time.sleep(3)  # both replicas had the chance to fire again: neither may
        queued = Queue("rollouts", connection=rt.redis).job_ids
        assert sorted(queued) == sorted([f"scheduled-{first.id}", f"scheduled-{second.id}"])
    finally:
        replicas.stop()


def test_a_leader_that_lost_its_lease_fires_nothing(rt):
    entry = schedules.add(rt.redis, time.time() - 1, Help().to_dict(), "/help", "alice", {"sink": "console"})
    old = Scheduler(rt, identity="old")
    old.token = old.lease.acquire(rt.redis)
    rt.redis.delete(old.lease.key)  # its lease ran out while it was paused
    new = Scheduler(rt, identity="new")
    new.token = new.lease.acquire(rt.redis)
    assert new.token > old.token
    assert old.fire_due() == 0  # fenced: its token is no longer the current one
    assert new.fire_due() == 1 and new.fire_due() == 0  # and the new leader fires it once


def test_a_forgotten_canary_gets_one_reminder_per_period(rt, work):
    from state import locks
    from tests.rollout_fixtures import feed

    day = 86400
    locks.acquire(rt.redis, "web", "test", locks.Holder("rollout-1", "alice", "canary 10%", "canary",
                                                        since=time.time() - 1.5 * day), ttl=3600)
    locks.acquire(rt.redis, "api", "test", locks.Holder("rollout-2", "alice", "canary 10%", "canary",
                                                        since=time.time() - 60), ttl=3600)  # young: left alone
    leader = Scheduler(rt, identity="leader")
    leader.token = leader.lease.acquire(rt.redis)
    assert leader.remind_stale() == 1
    assert leader.remind_stale() == 0  # the same period is told once, whoever leads
    work()
    [told] = [m for m in feed(rt) if "has been live" in m["text"]]
    assert told["message"]["title"] == "web (test): a canary has been live for 36 hours: promote or abort it"
    assert [b["value"] for b in told["message"]["buttons"]] == ["/deploy web promote", "/deploy web abort"]
    assert leader.remind_stale(now=time.time() + day) == 2  # a day later: web again, and api is now a day old
