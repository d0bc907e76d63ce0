"""A console command end to end: parse → policy → audit → RQ → worker → reply in the channel."""

from __future__ import annotations

import json
import time

from rq import Queue
from rq.job import Job, JobStatus

from bots.pipeline import ChatRequest, submit
from bots.console.sink import FEED, conversation_key
from core import audit, logs
from core.config import Settings
from core.runtime import Runtime


def console(user: str, text: str, conversation: str = "c1") -> ChatRequest:
    return ChatRequest("console", user, text, {"sink": "console", "conversation": conversation})


def replies(redis, conversation: str = "c1") -> list[dict]:
    return [json.loads(r) for r in redis.lrange(conversation_key(conversation), 0, -1)]


def counter(redis, name: str, **labels: str) -> float:
    from core.metrics import _field
    value = redis.hget("dockyard:metrics", _field(name, labels))
    return float(value) if value else 0.0


def test_status_answers_from_the_catalog_in_the_same_conversation(rt, work):
    outcome = submit(rt, console("alice", "/status web"))
    assert outcome.accepted and outcome.job_id
    assert replies(rt.redis) == []  # nothing until a worker runs the job
    work()
    [reply] = replies(rt.redis)
    assert reply["text"].startswith("ℹ web status")
    assert "shop-prod: 4 × 1C2G, prod approval required" in reply["text"]
    assert "no cluster configured" in reply["text"]
    assert Job.fetch(outcome.job_id, connection=rt.redis).get_status() == JobStatus.FINISHED


def test_help_lists_every_command(rt, work):
    submit(rt, console("zed", "/help"))  # strangers may read
    work()
    [reply] = replies(rt.redis)
    for verb in ("/deploy", "/rollback", "/silence", "/freeze", "/approve"):
        assert verb in reply["text"]


def test_wrong_command_is_answered_at_once_with_usage_and_nothing_is_queued(rt):
    outcome = submit(rt, console("alice", "/deploy web canary 150%"))
    assert not outcome.accepted
    assert outcome.message.title == "canary weight must be 1–99%, got 150%"
    assert outcome.message.lines[0].startswith("usage: /deploy <svc>")
    assert Queue("commands", connection=rt.redis).count == 0


def test_refusal_names_the_role_and_is_audited(rt):
    outcome = submit(rt, console("bob", "/scale web 3 in prod"))
    assert not outcome.accepted
    assert outcome.message.title == "bob may not scale web in prod: needs role developer for web in prod"
    [entry] = audit.since(rt.redis, 60)
    assert (entry.who, entry.channel, entry.result, entry.target) == ("bob", "console", "refused", "web")


def test_unknown_service_lists_the_catalog(rt):
    outcome = submit(rt, console("alice", "/status shop"))
    assert outcome.message.title == "service 'shop' is not in the catalog (known: api, ledger, reconcile, web)"


def test_every_accepted_command_is_audited_with_its_request_id(rt, work):
    logs.request_id.set("req-1234")
    submit(rt, console("alice", "/status api"))
    [entry] = audit.since(rt.redis, 60)
    assert (entry.who, entry.command, entry.result, entry.request_id) == ("alice", "/status api", "accepted",
                                                                           "req-1234")
    job = Queue("commands", connection=rt.redis).jobs[0]
    assert job.meta["request_id"] == "req-1234"


def test_metrics_count_commands_jobs_and_notifications(rt, work):
    submit(rt, console("alice", "/status web"))
    submit(rt, console("alice", "/status nope"))
    work()
    assert counter(rt.redis, "dockyard_commands", verb="status", result="accepted") == 1
    assert counter(rt.redis, "dockyard_commands", verb="status", result="invalid") == 1
    assert counter(rt.redis, "dockyard_jobs_enqueued", kind="status") == 1
    assert counter(rt.redis, "dockyard_jobs_finished", kind="status") == 1
    assert counter(rt.redis, "dockyard_notifications_sent", sink="console") == 1
    assert counter(rt.redis, "dockyard_job_duration_seconds:count", kind="status") == 1


def test_console_feed_keeps_every_message(rt, work):
    submit(rt, console("alice", "/status web"))
    work()
    [(_, fields)] = rt.redis.xrange(FEED)
    assert "web status" in json.loads(fields[b"payload"])["text"]


def _unreachable_cluster(rt: Runtime, tmp_path, backoff: tuple[int, ...]) -> Runtime:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n")
    settings = Settings(**{**rt.settings.model_dump(), "kubeconfig": kubeconfig, "job_retries": 2,
                           "job_backoff": backoff})
    from core import runtime
    return runtime.install(Runtime(settings=settings, rules=rt.rules))


def test_failing_job_is_retried_then_reported_in_the_channel(rt, work, tmp_path):
    broken = _unreachable_cluster(rt, tmp_path, backoff=(0,))
    outcome = submit(broken, console("alice", "/status web"))
    work()  # first try and both retries (no backoff here) run in this burst
    job = Job.fetch(outcome.job_id, connection=rt.redis)
    assert job.get_status() == JobStatus.FAILED
    assert job.meta["tries"] == 3
    [reply] = replies(rt.redis)
    assert reply["message"]["severity"] == "error"
    assert reply["text"].startswith("✖ /status web failed after 3 attempts")
    assert "the cluster did not answer" in reply["text"]
    assert f"./dockyard jobs requeue {job.id}" in reply["text"]
    assert counter(rt.redis, "dockyard_jobs_failed", kind="status", final="false") == 2
    assert counter(rt.redis, "dockyard_jobs_failed", kind="status", final="true") == 1


def test_retries_wait_for_their_backoff(rt, tmp_path):
    from jobs.worker import DockyardSimpleWorker
    from rq.scheduler import RQScheduler

    broken = _unreachable_cluster(rt, tmp_path, backoff=(2,))
    outcome = submit(broken, console("alice", "/status web"))
    before = time.time()
    DockyardSimpleWorker(["commands"], connection=rt.redis).work(burst=True)
    after = time.time()
    queue = Queue("commands", connection=rt.redis)
    scheduled = queue.scheduled_job_registry
    assert outcome.job_id in scheduled.get_job_ids()
    due = scheduled.get_scheduled_time(outcome.job_id).timestamp()
    assert before + 2 - 1 <= due <= after + 2 + 1  # the failure time plus the 2 s backoff (RQ keeps whole seconds)
    assert replies(rt.redis) == []  # not reported while a retry is pending
    scheduler = RQScheduler([queue], connection=rt.redis)
    scheduler.acquire_locks()
    deadline = time.time() + 5
    while outcome.job_id in scheduled.get_job_ids() and time.time() < deadline:
        time.sleep(0.2)
        scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()
    assert outcome.job_id in queue.get_job_ids()  # the retry is back on its queue after the backoff
