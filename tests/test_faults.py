"""Crash safety, measured: SIGKILL each process under a steady stream of pushes and commands, count what survives.

Real processes from the Procfile (gunicorn web, two forking workers, the notifier, the watcher, the
scheduler), a real redis-server with `appendonly yes` and `appendfsync always`, the session's control
plane, the GitLab stand-in. Each push is to its own service, so it makes a build job (a Kaniko Job on
kwok) and its auto-deploy rollout to test; each command is a console `/status`. A scenario counts the
requests answered 2xx (accepted), the jobs that finished, the messages delivered and any duplicates,
prints them (`pytest -s`) and writes them to .run/faults/<scenario>.json.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bots.console.sink import FEED, conversation_key
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from rules import load_rules
from deploy.kube import connect
from deploy.local.gitlab_standin import GitLabAPI
from deploy.local.services import free_port, wait_until
from tests.faults import AofRedis, Procs, Sent, Stream, env_for, probe_without_redis, web_ready, write_counts
from tests.rollout_fixtures import write_rules

API_TOKEN = "glpat-faults"
POOL = 80  # services, one per push
NS = "shop-test"
DONE = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def _rules(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_rules(directory)
    catalog = yaml.safe_load((directory / "catalog.yaml").read_text())
    for i in range(POOL):
        catalog["services"][f"f{i}"] = {
            "team": "storefront", "language": "node", "git": f"shop/f{i}", "port": 3000, "router": "replicas",
            "auto_deploy": "test", "environments": {"test": {"namespace": NS, "replicas": 1,
                                                             "resources": "0.5C1G", "progress_deadline": 20}}}
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return directory


class Platform:
    """Everything of one Dockyard installation, and the handles a scenario needs."""

    def __init__(self, tmp: Path, cluster):
        self.cluster = cluster
        self.redis = AofRedis(tmp / "redis").start()
        self.gitlab = GitLabAPI(API_TOKEN, {f"shop/f{i}": {"id": 100 + i, "branches": {"main": "a" * 40}}
                                            for i in range(POOL)}).start()
        self.rules = _rules(tmp / "rules")
        self.port = free_port()
        self.web = f"http://127.0.0.1:{self.port}"
        self.procs = Procs(env_for(self.redis.url, self.rules, cluster.dockyard_kubeconfig, self.gitlab.url,
                                   API_TOKEN, self.port), tmp / "logs")
        settings = Settings(redis_url=self.redis.url, rules_dir=self.rules, kubeconfig=cluster.dockyard_kubeconfig,
                            job_retries=3, job_backoff=(2, 5, 15))  # as env_for gives the processes
        self.rt = Runtime(settings=settings, rules=load_rules(self.rules))
        self.free = iter(f"f{i}" for i in range(POOL))

    def start(self) -> "Platform":
        for name in ("web", "worker.1", "worker.2", "notifier", "watcher", "scheduler"):
            self.procs.start(name)
        wait_until(lambda: web_ready(self.web), 60, "gunicorn serving /readyz")
        return self

    def services(self, n: int) -> list[str]:
        return [next(self.free) for _ in range(n)]

    def stream(self, pushes: int, every: float = 0.5) -> Stream:
        return Stream(self.rt, self.web, self.services(pushes), every=every).start()

    def job(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.rt.redis)
        except NoSuchJobError:
            return None

    def feed(self) -> list[dict]:
        return [json.loads(fields[b"payload"]) for _, fields in self.rt.redis.xrange(FEED)]

    def stop(self) -> None:
        self.procs.stop_all()
        self.gitlab.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def platform(tmp_path_factory, cluster):
    previous = runtime._current
    found = Platform(tmp_path_factory.mktemp("faults"), cluster)
    runtime.install(found.rt)
    try:
        yield found.start()
    finally:
        found.stop()
        runtime._current = previous


def chain(p: dict) -> tuple[str, str]:
    """A push's build job and the auto-deploy it enqueues (jobs/build.py names both)."""
    return f"build-{p['service']}-{p['sha'][:12]}", f"autodeploy-{p['service']}-{p['sha'][:8]}"


def settle(platform: Platform, sent: Sent, timeout: float = 120) -> dict:
    """Wait until every accepted request's jobs have ended; count finished, messages and duplicates."""
    def ended() -> bool:
        for p in sent.accepted_pushes():
            build, rollout = chain(p)
            job = platform.job(build)
            if job is None or job.get_status() not in DONE:
                return False
            if job.get_status() == JobStatus.FINISHED and (job.return_value() or {}).get("ok"):
                follow = platform.job(rollout)
                if follow is None or follow.get_status() not in DONE:
                    return False
        return all((j := platform.job(c["job"])) is not None and j.get_status() in DONE
                   for c in sent.accepted_commands())
    wait_until(ended, timeout, "every accepted request's jobs to end", interval=0.5)
    feed = platform.feed()
    finished = duplicates = messages = retried = 0
    for p in sent.accepted_pushes():
        build, rollout = chain(p)
        jobs = [platform.job(build), platform.job(rollout)]
        if all(j is not None and j.get_status() == JobStatus.FINISHED for j in jobs):
            finished += 1
        retried += sum(j.meta.get("tries", 1) > 1 for j in jobs if j is not None)
        built = [m for m in feed if m["text"].startswith(f"✔ [Dockyard] {p['service']} built")
                 or m["text"].startswith(f"✔ {p['service']} built")]
        tags = [t for t in platform.gitlab.tags if t["project"] == f"shop/{p['service']}"]
        messages += len(built)
        duplicates += max(0, len(built) - 1) + max(0, len(tags) - 1)
    for c in sent.accepted_commands():
        job = platform.job(c["job"])
        finished += job is not None and job.get_status() == JobStatus.FINISHED
        retried += job is not None and job.meta.get("tries", 1) > 1
        replies = platform.rt.redis.lrange(conversation_key(c["conversation"]), 0, -1)
        messages += len(replies)
        duplicates += max(0, len(replies) - 1)
    failed = [f"{j.id}: {(j.latest_result().exc_string or '').strip().splitlines()[-1:]}"
              for j in (platform.job(i) for p in sent.accepted_pushes() for i in chain(p))
              if j is not None and j.get_status() == JobStatus.FAILED]
    failed += [f"{c['text']}: {(j.latest_result().exc_string or '').strip().splitlines()[-1:]}"
               for c in sent.accepted_commands() if (j := platform.job(c["job"])) and j.get_status() == JobStatus.FAILED]
    if failed:
        print("[faults] failed for good:", *failed, sep="\n  ")
    return {"accepted": len(sent.accepted_pushes()) + len(sent.accepted_commands()), "finished": finished,
            "messages": messages, "duplicates": duplicates, "retried_jobs": retried,
            "answered": dict(sorted(sent.statuses.items())), "answered_5xx_without_reason": len(sent.bad),
            "failed_for_good": failed}


def report(name: str, counts: dict, **extra) -> dict:
    counts = {"scenario": name, **counts, **extra}
    write_counts(name, counts)
    return counts


def test_sigkill_of_the_web_process_loses_no_accepted_push(platform):
    stream = platform.stream(pushes=8)
    wait_until(lambda: len(stream.sent.accepted_pushes()) >= 2, 30, "the first pushes accepted")
    killed = platform.procs.kill("web")  # the master and its workers, mid-stream
    time.sleep(1)  # the stream meets a closed port meanwhile
    platform.procs.start("web")
    wait_until(lambda: web_ready(platform.web), 60, "the restarted web")
    counts = report("web", settle(platform, stream.finish()), killed_pids=len(killed))
    assert counts["answered"].get("refused", 0) > 0  # the kill was felt
    assert counts["accepted"] == counts["finished"] and counts["duplicates"] == 0, counts
    assert counts["answered_5xx_without_reason"] == 0


def test_sigkill_of_a_worker_mid_rollout_retries_the_rollout_once(platform):
    stream = platform.stream(pushes=6)
    started = Queue("rollouts", connection=platform.rt.redis).started_job_registry

    wait_until(lambda: started.get_job_ids(), 60, "a rollout running", interval=0.1)
    victim = started.get_job_ids()[0]
    worker = _worker_running(platform, victim)
    platform.procs.kill(worker)
    platform.procs.start(worker)  # the Deployment's replacement pod
    counts = report("worker-mid-rollout", settle(platform, stream.finish(), timeout=180), killed_job=victim)
    job = platform.job(victim)
    assert job.get_status() == JobStatus.FINISHED and job.meta["tries"] >= 2  # abandoned, then retried
    assert counts["accepted"] == counts["finished"] and counts["duplicates"] == 0, counts


def _worker_running(platform: Platform, job_id: str) -> str:
    """The Procfile replica running `job_id`, by the pid its RQ worker registered."""
    from rq import Worker

    pids = {w.pid for w in Worker.all(connection=platform.rt.redis) if w.get_current_job_id() == job_id}
    return next(name for name in ("worker.1", "worker.2") if platform.procs.running[name].pid in pids)


def test_redis_killed_and_restarted_from_its_aof_loses_nothing_it_acknowledged(platform):
    stream = platform.stream(pushes=8)
    wait_until(lambda: len(stream.sent.accepted_pushes()) >= 2, 30, "the first pushes accepted")
    platform.redis.kill()  # kill -9: whatever Redis answered "OK" to is in its AOF (appendfsync always)
    probes = probe_without_redis(platform.web)
    time.sleep(2)  # the stream meets the outage
    platform.redis.start()  # same port, same directory: the AOF is replayed
    restarted = platform.procs.revive()  # none should need it: every process waits for Redis to come back
    wait_until(lambda: web_ready(platform.web), 30, "/readyz after Redis is back")
    counts = report("redis", settle(platform, stream.finish(), timeout=180), appendfsync="always",
                    probes_while_down=probes, processes_restarted=restarted)
    assert counts["answered"].get("503", 0) > 0 and counts["answered"].get("500", 0) == 0, counts
    assert counts["answered_5xx_without_reason"] == 0
    assert counts["accepted"] == counts["finished"] and counts["duplicates"] == 0, counts
    assert restarted == [], f"exited on the Redis outage: {restarted}"


def deploy_some(platform: Platform, n: int) -> list[str]:
    """n services built and rolled out to test by pushes (one pod each)."""
    stream = platform.stream(pushes=n, every=0.2)
    sent = stream.finish()
    counts = settle(platform, sent)
    assert counts["finished"] == counts["accepted"], counts
    return [p["service"] for p in sent.accepted_pushes()]


def incident(platform: Platform, service: str) -> list[dict]:
    return [m for m in platform.feed() if f"{service} (test): OOMKilled" in m["text"].splitlines()[0]]


def oom_count(message: dict) -> int:
    match = re.search(r"OOMKilled ×(\d+)", message["text"])
    return int(match.group(1)) if match else 1


def _pods(kube, service: str) -> list:
    return kube.core.list_namespaced_pod(NS, label_selector=f"app={service}").items


def _simulate(kube, service: str, what: str | None) -> None:
    for pod in _pods(kube, service):
        kube.core.patch_namespaced_pod(pod.metadata.name, NS, {"metadata": {"annotations": {
            "dockyard.dev/simulate": what, "dockyard.dev/simulate-interval": "1s" if what else None}}})


def _restarts(kube, service: str) -> int:
    return sum(c.restart_count for pod in _pods(kube, service) for c in pod.status.container_statuses or [])


def _every_oom_once(platform: Platform, kube, services: list[str]) -> dict:
    """Wait until each service's one incident message counts every OOM its pod had; count refs."""
    def counted() -> bool:
        return all(incident(platform, s) and max(oom_count(m) for m in incident(platform, s)) == _restarts(kube, s)
                   for s in services)
    wait_until(counted, 60, "every OOM counted in its incident", interval=0.5)
    refs = {s: len({m["ref"] for m in incident(platform, s)}) for s in services}
    return {"incidents": len(services), "ooms": sum(_restarts(kube, s) for s in services),
            "messages": sum(refs.values()), "duplicates": sum(n - 1 for n in refs.values())}


def test_sigkill_of_the_watcher_mid_storm_reports_each_incident_once(platform):
    services = deploy_some(platform, 4)
    kube = connect(platform.cluster.admin_kubeconfig)  # faults are injected as the admin
    for service in services:
        _simulate(kube, service, "oom")
    try:
        # every pod's first OOM seen before the kill: what ended a container's runs before its first is unknown
        wait_until(lambda: all(incident(platform, s) for s in services), 40, "the storm's first incidents")
        platform.procs.kill("watcher")
        wait_until(lambda: min(_restarts(kube, s) for s in services) >= 3, 30, "OOMs while nobody watches")
        platform.procs.start("watcher")
        time.sleep(3)
    finally:
        for service in services:
            _simulate(kube, service, None)
    counts = report("watcher-mid-storm", _every_oom_once(platform, kube, services))
    assert counts["messages"] == counts["incidents"] and counts["duplicates"] == 0, counts


def test_sigkill_of_the_scheduler_mid_plan_fires_each_timed_change_once(platform):
    from state import schedules

    services = deploy_some(platform, 4)
    stream = Stream(platform.rt, platform.web, [], command="/deploy {service} v2 in 1m")
    for service in services:
        stream.chat(service)
    conversations = {c["text"].split()[1]: c["conversation"] for c in stream.sent.commands.values()}
    wait_until(lambda: len([e for e in schedules.pending(platform.rt.redis)
                            if e.reply_to.get("conversation") in conversations.values()]) == len(services),
               30, "the timed changes on the schedule")
    # The grammar's shortest delay is a minute; move them to 3, 6, 9, 12 s from now instead of waiting.
    for i, service in enumerate(services):
        [entry] = [e for e in schedules.pending(platform.rt.redis)
                   if e.reply_to.get("conversation") == conversations[service]]
        platform.rt.redis.zadd(schedules.DUE, {entry.id: time.time() + 3 + 3 * i})

    def texts(service: str) -> list[str]:
        return [json.loads(r)["text"] for r in
                platform.rt.redis.lrange(conversation_key(conversations[service]), 0, -1)]

    def done(service: str) -> list[str]:
        return [t for t in texts(service) if t.startswith("✔") and "v2" in t.splitlines()[0]]
    wait_until(lambda: done(services[0]), 60, "the first timed change done")
    platform.procs.kill("scheduler")  # between its steps: the others are still due
    platform.procs.start("scheduler")
    wait_until(lambda: all(done(s) for s in services), 120, "every timed change done")
    time.sleep(2)  # a duplicate firing would show by now
    fired = {s: len(done(s)) for s in services}
    counts = report("scheduler-mid-plan", {"scheduled": len(services), "fired": sum(fired.values()),
                                           "messages": sum(len(texts(s)) for s in services),
                                           "duplicates": sum(n - 1 for n in fired.values())})
    assert counts["fired"] == counts["scheduled"] and counts["duplicates"] == 0, (counts, {s: texts(s) for s in services})


def test_apiserver_restarted_during_a_watch_loses_no_job_and_repeats_no_incident(platform):
    [service] = deploy_some(platform, 1)
    kube = connect(platform.cluster.admin_kubeconfig)
    stream = platform.stream(pushes=4, every=1.0)
    wait_until(lambda: len(stream.sent.accepted_pushes()) >= 1, 30, "the first push accepted")
    platform.cluster.restart_apiserver()  # the watch breaks; builds and rollouts meet a closed port
    kube = connect(platform.cluster.admin_kubeconfig)
    _simulate(kube, service, "oom")
    try:
        wait_until(lambda: _restarts(kube, service) >= 2 and incident(platform, service), 60,
                   "an incident after the restart")
    finally:
        _simulate(kube, service, None)
    time.sleep(3)  # a repeated incident would show by now
    refs = len({m["ref"] for m in incident(platform, service)})
    counts = report("apiserver-restart", settle(platform, stream.finish(), timeout=180), incidents=1,
                    incident_messages=refs, incident_duplicates=refs - 1, ooms=_restarts(kube, service),
                    ooms_counted=max(oom_count(m) for m in incident(platform, service)))
    # For a moment after its restart the apiserver's RBAC cache is empty and it may answer a plain 403: a job
    # tries once more (deploy/api_errors.py), so none fails for good.
    assert counts["failed_for_good"] == [], counts
    assert counts["accepted"] == counts["finished"] and counts["duplicates"] == 0, counts
    assert counts["incident_messages"] == 1 and counts["incident_duplicates"] == 0, counts
