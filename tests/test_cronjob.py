"""Scheduled jobs (kind: cronjob) on the real control plane: deployed like any service, refused what makes no
sense for them, their runs in /status, and a failed run as an incident in the team's channel until one succeeds.

The first run comes from the controller-manager's own CronJob controller (schedule `* * * * *`, so the test
waits for the next minute: up to ~60 s). The run that fixes it is started by hand with
`kubectl create job --from=cronjob/...`, as an operator would, rather than waiting another minute.
"""

from __future__ import annotations

import re

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from core import runtime
from deploy.kube import connect
from deploy.local.services import wait_until
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from tests.rollout_fixtures import Chat, feed, live_runtime, write_rules
from watcher.loop import Watcher

NS = "shop-test"
NAME = "nightly"


@pytest.fixture
def world(redis, redis_server, cluster, tmp_path):
    """The test catalog plus a scheduled job every minute; the test looks and starts runs as the admin."""
    rules_dir = write_rules(tmp_path)
    catalog = yaml.safe_load((rules_dir / "catalog.yaml").read_text())
    catalog["services"][NAME] = {
        "team": "storefront", "language": "go", "git": f"shop/{NAME}", "kind": "cronjob",
        "schedule": "* * * * *", "concurrency_policy": "Forbid", "failed_jobs_history_limit": 3,
        "environments": {"test": {"namespace": NS, "resources": "0.5C1G"},
                         "prod": {"namespace": "shop-prod", "resources": "0.5C1G", "approval": "required"}}}
    (rules_dir / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    previous = runtime._current
    rt = runtime.install(live_runtime(redis_server.url, rules_dir, cluster.dockyard_kubeconfig))
    watchers: list[Watcher] = []
    yield type("World", (), {"rt": rt, "chat": Chat(rt), "admin": connect(cluster.admin_kubeconfig),
                             "cluster": cluster, "watchers": watchers})
    for watcher in watchers:
        watcher.close()
    world_admin = connect(cluster.admin_kubeconfig)
    for ns in (NS, "shop-prod"):
        try:
            world_admin.batch.delete_namespaced_cron_job(NAME, ns, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:  # 404: never deployed there
                raise
    runtime._current = previous


def incident(rt) -> list[dict]:
    """The channel's messages about the scheduled job's failed runs."""
    return [m for m in feed(rt) if f"{NAME} (test): JobFailed" in m["text"].splitlines()[0]]


def pump(rt, until, what: str, timeout: float) -> None:
    def step() -> bool:
        DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
        return until()
    wait_until(step, timeout, what, interval=0.5)


def test_canary_preview_and_replica_verbs_are_refused_with_the_reason(world):
    for text, reason in (
            (f"/deploy {NAME} v2 canary 10%", "a scheduled job takes no traffic, so there is none to split"),
            (f"/deploy {NAME} v2 preview", "a scheduled job takes no traffic, so nobody could reach a preview"),
            (f"/scale {NAME} 3", "it has no replicas to scale"),
            (f"/restart {NAME}", "its next run starts on its schedule"),
            (f"/rollback {NAME}", f"keeps no revisions to go back to: /deploy {NAME} <earlier tag>")):
        [reply] = world.chat("alice", text)
        assert reply.get("refused"), text
        assert reply["text"].startswith(f"{NAME} is a scheduled job (kind: cronjob): "), text
        assert reason in reply["text"], text
    assert world.admin.batch.list_namespaced_cron_job(NS, field_selector=f"metadata.name={NAME}").items == []


def test_a_failed_run_reaches_the_team_and_a_later_good_run_resolves_it(world):
    reply = world.chat("alice", f"/deploy {NAME} v1-fail")[-1]  # kwok fails pods whose image tag ends in -fail
    assert reply["text"].startswith(f"✔ {NAME} (test): scheduled job set to v1-fail")
    assert "schedule          * * * * * (UTC)" in reply["text"]
    cron = world.admin.batch.read_namespaced_cron_job(NAME, NS)
    assert (cron.spec.schedule, cron.spec.time_zone, cron.spec.concurrency_policy) == ("* * * * *", "Etc/UTC", "Forbid")
    assert cron.spec.job_template.spec.template.spec.containers[0].image == f"registry.local/shop/{NAME}:v1-fail"
    world.watchers.append(Watcher(world.rt, quiet_seconds=2, sweep_every=0.5).start())

    # The CronJob controller starts a run at the next minute; kwok fails it; the team hears it.
    pump(world.rt, lambda: incident(world.rt), "the scheduled run, failed, reported in the channel", timeout=100)
    first = incident(world.rt)[0]
    assert re.match(rf"⚠ {NAME} \(test\): JobFailed, run {NAME}-\d+ failed", first["text"])
    for field in (f"app             {NAME}", "project         storefront", "container exit  ExitCode 1, reason JobFailed",
                  f"pod             {NAME}-", "container       nightly"):
        assert field in first["text"], field
    assert "why: run nightly-" in first["text"] and "BackoffLimitExceeded" in first["text"]
    assert "marked resolved when a later run succeeds" in first["text"]

    [status] = world.chat("alice", f"/status {NAME}")
    assert status["message"]["severity"] == "warning"
    assert f"test: schedule * * * * * (Etc/UTC), overlapping runs Forbid, image registry.local/shop/{NAME}:v1-fail" \
        in status["text"]
    assert re.search(rf"test run {NAME}-\d+: started \S+ \S+ UTC, finished \S+ \S+ UTC, failed \(BackoffLimitExceeded\), "
                     rf"image {NAME}:v1-fail", status["text"])
    assert "not run successfully in test" in world.chat("alice", f"/deploy {NAME} v1-fail to prod")[-1]["text"]

    # The fix: a new image, and a run started by hand from the CronJob, as `kubectl create job --from` does.
    fixed = world.chat("alice", f"/deploy {NAME} v2")[-1]
    assert fixed["text"].startswith(f"✔ {NAME} (test): scheduled job set to v2")
    world.cluster.kubectl("create", "job", f"--from=cronjob/{NAME}", f"{NAME}-by-hand", "-n", NS)
    resolved = f"✔ RESOLVED {NAME} (test): JobFailed"
    pump(world.rt, lambda: any(m["text"].startswith(resolved) for m in incident(world.rt)),
         "the incident resolved by the run that succeeded", timeout=40)
    assert len({m["ref"] for m in incident(world.rt)}) == 1  # one message, edited: failed, then resolved

    [status] = world.chat("alice", f"/status {NAME}")
    assert re.search(rf"test run {NAME}-by-hand: started \S+ \S+ UTC, finished \S+ \S+ UTC, succeeded, image {NAME}:v2",
                     status["text"])
    # A run of v2 succeeded in test, so prod may take v2 (after its approval).
    assert world.chat("alice", f"/deploy {NAME} v2 to prod")[-1]["text"].startswith(
        f"ℹ {NAME} to prod needs an approval: request ")


def test_a_run_that_succeeded_before_the_failure_does_not_resolve_it(world):
    from jobs.queues import enqueue
    from watcher.detect import Finding

    rt = world.rt
    failed = Finding(service=NAME, env="test", reason="JobFailed", key="run-2:failed", run=f"{NAME}-2",
                     detail=f"run {NAME}-2 failed", at="2026-11-22T10:02:05Z")
    older = Finding(service=NAME, env="test", reason="JobFailed", key="run-1:complete", run=f"{NAME}-1",
                    resolved=True, at="2026-11-22T10:01:04Z")  # seen late, as on a relist
    later = Finding(service=NAME, env="test", reason="JobFailed", key="run-3:complete", run=f"{NAME}-3",
                    resolved=True, at="2026-11-22T10:03:04Z")
    for finding in (failed, older):
        enqueue(rt.redis, rt.settings, "notify", "jobs.incidents.record", "health", finding=finding.to_dict())
    DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
    assert [m["text"].splitlines()[0] for m in incident(rt)] == [f"⚠ {NAME} (test): JobFailed, run {NAME}-2 failed"]
    enqueue(rt.redis, rt.settings, "notify", "jobs.incidents.record", "health", finding=later.to_dict())
    DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
    assert incident(rt)[-1]["text"].startswith(f"✔ RESOLVED {NAME} (test): JobFailed")
