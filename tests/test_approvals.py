"""Prod deploys need someone else's approval: four eyes, exactly once, expiry, break glass."""

from __future__ import annotations

import re
import threading
import time

import pytest
from rq import Queue

from core import audit, runtime
from deploy import fetching
from deploy.kube import connect
from jobs import approvals
from state import approvals as approval_state
from core.errors import PermanentError
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules


@pytest.fixture
def chat(request, redis, redis_server, cluster, tmp_path):
    """A chat over the test catalog; approvals last an hour unless the test asks (indirect param) for less."""
    previous = runtime._current
    ttl = getattr(request, "param", 3600)
    rt = runtime.install(live_runtime(redis_server.url, write_rules(tmp_path), cluster.dockyard_kubeconfig,
                                      approval_ttl=ttl))
    yield Chat(rt)
    runtime._current = previous


def request_id(chat: Chat) -> str:
    posted = [m for m in feed(chat.rt) if m["text"].startswith("⚠ approval ")]
    return re.match(r"⚠ approval (\w+):", posted[-1]["text"]).group(1)


def test_prod_takes_only_images_that_ran_in_test(chat):
    refused = chat("alice", "/deploy appr v5 to prod")
    assert "appr:v5 has not run successfully in test" in refused[-1]["text"]
    assert "--break-glass" in refused[-1]["text"]


def test_four_eyes_then_the_approved_rollout_runs(chat, cluster):
    chat("alice", "/deploy appr v1")  # test first
    receipt = chat("alice", "/deploy appr v1 to prod")
    assert receipt[-1]["text"].startswith("ℹ appr to prod needs an approval: request ")
    ident = request_id(chat)
    posted = [m for m in feed(chat.rt) if m["text"].startswith(f"⚠ approval {ident}")][-1]
    assert [b["value"] for b in posted["message"]["buttons"]] == [f"/approve {ident}", f"/reject {ident}"]
    own = chat("alice", f"/approve {ident}")
    assert own[0]["refused"]  # alice is no approver at all
    assert own[0]["text"] == "alice may not approve appr in prod: needs role tester for appr in prod"
    chat.rt.redis.hset(approval_state.KEY.format(ident), "requester", "carol")  # now carol asks, and carol tries
    assert "four eyes: carol asked for approval" in chat("carol", f"/approve {ident}")[-1]["text"]
    chat.rt.redis.hset(approval_state.KEY.format(ident), "requester", "alice")
    done = chat("carol", f"/approve {ident}")
    assert done[0]["text"].startswith(f"✔ approved {ident}: appr v1 to prod is starting")
    dep = fetching.read_deployment(connect(cluster.dockyard_kubeconfig), "shop-prod", "appr")
    assert fetching.image_of(dep) == "registry.local/shop/appr:v1"
    assert dep.metadata.annotations["dockyard.dev/deployed-by"] == "alice (approved by carol)"
    updated = [m for m in feed(chat.rt) if m["updated"] and ident in m["text"]]
    assert updated and "approved by carol" in updated[-1]["text"] and not updated[-1]["message"]["buttons"]
    trail = [(e.who, e.result) for e in audit.since(chat.rt.redis, 60) if e.command == f"/approve {ident}"]
    assert trail[0] == ("alice", "refused") and trail[-1] == ("carol", "approved")


def test_two_approvers_clicking_at_once_start_one_rollout(chat):
    chat("alice", "/deploy appr v2")
    chat("alice", "/deploy appr v2 to prod")
    ident = request_id(chat)
    results: list[str] = []
    start = threading.Barrier(2)

    def click(user: str) -> None:
        start.wait()
        try:
            approvals.approve(ident, user, {"sink": "console"})
            results.append("won")
        except PermanentError as exc:
            results.append(str(exc))
    threads = [threading.Thread(target=click, args=(u,)) for u in ("carol", "dave")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r == "won" for r in results) == [False, True]
    assert any("was already approved by" in r for r in results)
    assert Queue("rollouts", connection=chat.rt.redis).count == 1


def test_rejection_with_a_reason_tells_the_requester(chat):
    chat("alice", "/deploy appr v3")
    chat("alice", "/deploy appr v3 to prod", run=True)
    ident = request_id(chat)
    chat("carol", f"/reject {ident} error budget spent")
    record = approvals.load(ident)
    assert (record["status"], record["decided_by"], record["reason"]) == ("rejected", "carol", "error budget spent")
    told = [m for m in feed(chat.rt) if f"approval {ident}" in m["text"] and "rejected by carol" in m["text"]]
    assert told and "reason: error budget spent" in told[-1]["text"]
    assert "was already rejected by carol" in chat("dave", f"/approve {ident}")[-1]["text"]


@pytest.mark.parametrize("chat", [2], indirect=True)
def test_expiry_is_announced_and_blocks_late_approval(chat):
    from rq.scheduler import RQScheduler

    chat("alice", "/deploy appr v4")
    chat("alice", "/deploy appr v4 to prod")
    ident = request_id(chat)
    time.sleep(3.2)  # approval_ttl is 2 s here; the expiry job is due at 3 s
    scheduler = RQScheduler([Queue("commands", connection=chat.rt.redis)], connection=chat.rt.redis)
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()
    chat("dave", "/help")  # any command: runs the workers, which run the expiry
    assert approvals.load(ident)["status"] == "expired"
    assert any(f"approval {ident}" in m["text"] and "expired at" in m["text"] for m in feed(chat.rt))


def test_break_glass_is_for_sre_and_is_audited(chat):
    refused = chat("alice", "/deploy appr v9 to prod --break-glass INC-42 hotfix")
    assert refused[0]["refused"] and "may not breakglass appr in prod: needs role sre" in refused[0]["text"]
    chat("dave", "/deploy appr v9 to prod --break-glass INC-42 hotfix")
    ident = request_id(chat)
    assert approvals.load(ident)["break_glass"] == "INC-42 hotfix"
    [entry] = [e for e in audit.since(chat.rt.redis, 60) if e.result == "break-glass"]
    assert (entry.who, entry.command) == ("dave", "break glass: INC-42 hotfix")
