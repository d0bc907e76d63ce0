"""Security review #12 for builds: the commit built is the commit pushed, deliveries are seen only once
queued, GitLab's own payloads are accepted, build pods carry no Kubernetes token."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr
from rq import Queue

from core import runtime
from core.config import Settings
from core.runtime import Runtime
from deploy.build.kaniko import BUILDS_NAMESPACE
from deploy.kube import connect
from handlers.app import create_app
from rules import load_rules
from tests.test_gitlab import HOOK_TOKEN, gitlab_api, hook, push, work  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gitlab"
DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # the Docker reference grammar's tag


@pytest.fixture
def webhook(redis, redis_server):
    """The GitLab webhook over real Redis and the example catalog; no cluster (nothing here builds)."""
    previous = runtime._current
    settings = Settings(redis_url=redis_server.url, rules_dir=ROOT / "rules",
                        gitlab_webhook_token=SecretStr(HOOK_TOKEN), job_retries=1, job_backoff=(0,))
    rt = runtime.install(Runtime(settings=settings, rules=load_rules(ROOT / "rules")))
    client = create_app(rt=rt).test_client()

    def post(payload, event="Push Hook", uuid=None):
        headers = {"X-Gitlab-Token": HOOK_TOKEN, "X-Gitlab-Event": event}
        if uuid:
            headers["X-Gitlab-Event-UUID"] = uuid
        return client.post("/webhooks/gitlab", data=json.dumps(payload), content_type="application/json",
                           headers=headers)
    yield type("Webhook", (), {"post": staticmethod(post), "rt": rt})
    runtime._current = previous


def builds(rt) -> list[dict]:
    """What each queued build will build, as the build job receives it."""
    return [job.kwargs for job in Queue("builds", connection=rt.redis).jobs]


def git_accepts(ref: str) -> bool:
    return subprocess.run(["git", "check-ref-format", ref], capture_output=True).returncode == 0


# 6. The commit that is built is the commit that was pushed.

def test_a_ref_with_a_hash_is_refused_so_kaniko_cannot_be_pointed_at_another_commit(webhook):
    # Kaniko splits its git context on '#': this ref would have made it check out "b...b" instead
    body = push(project="shop/api", ref=f"refs/tags/v1#{'b' * 40}", after="c" * 40)
    response = webhook.post(body, event="Tag Push Hook")
    assert response.status_code == 400
    assert "contains '#'" in response.get_json()["error"]
    assert builds(webhook.rt) == []


@pytest.mark.parametrize("ref", [
    "refs/heads/release/a..b", "refs/heads/release/a b", "refs/heads/release/a~1", "refs/heads/release/a^",
    "refs/heads/release/a:b", "refs/heads/release/a?", "refs/heads/release/a*", "refs/heads/release/a[b",
    "refs/heads/release/a\\b", "refs/heads/release/a\x07", "refs/heads/release/a@{1}", "refs/heads/release/x.lock",
    "refs/heads/release/", "refs/heads/release/x.", "refs/heads/release//x", "refs/heads/release/.hidden",
])
def test_refs_git_refuses_are_refused_with_the_reason(webhook, ref):
    assert not git_accepts(ref)  # git itself is the judge of these
    response = webhook.post(push(project="shop/api", ref=ref, after="c" * 40))  # api builds release/*
    assert response.status_code == 400
    assert "which git does not allow" in response.get_json()["error"] or "git or Kaniko" in response.get_json()["error"]
    assert builds(webhook.rt) == []


@pytest.mark.parametrize("ref", ["refs/heads/release/1.2", "refs/heads/release/ünïcode-@", "refs/tags/v1.0.0-rc.1"])
def test_refs_git_accepts_are_built(webhook, ref):
    assert git_accepts(ref)
    response = webhook.post(push(project="shop/api", ref=ref, after="c" * 40))
    assert response.status_code == 202
    assert [b["ref"] for b in builds(webhook.rt)] == [ref]


@pytest.mark.parametrize("field,value", [
    ("after", "C" * 40), ("after", "c" * 39), ("after", "c" * 40 + "#" + "b" * 40),
    ("checkout_sha", "b" * 12), ("checkout_sha", 123), ("checkout_sha", ["c" * 40]),
])
def test_commit_ids_other_than_40_lowercase_hex_are_refused(webhook, field, value):
    response = webhook.post({**push(project="shop/api", after="c" * 40), field: value})
    assert response.status_code == 400
    assert f"{field} " in response.get_json()["error"] and "40-character lowercase hex" in response.get_json()["error"]
    assert builds(webhook.rt) == []


def test_the_pushed_commit_is_the_one_kaniko_checks_out_and_a_wild_user_name_gives_a_valid_tag(
        hook, gitlab_api, cluster):
    sha = "1f" * 20
    user = "Jürgen Müller 张伟 " + "x" * 10_000
    assert hook.post(push(after=sha, user=user)).status_code == 202
    work(hook.rt)
    kube = connect(cluster.admin_kubeconfig)  # the test looks as the cluster admin, not as Dockyard
    job = kube.dynamic.resources.get(api_version="batch/v1", kind="Job").get(
        name=f"build-web-{sha[:8]}", namespace=BUILDS_NAMESPACE)
    args = job.spec.template.spec.containers[0].args
    [context] = [a.removeprefix("--context=") for a in args if a.startswith("--context=")]
    assert context.split("#")[1:] == ["refs/heads/main", sha]  # Kaniko clones main, checks out the pushed commit
    assert {s["sha"] for s in gitlab_api.statuses} == {sha}
    [destination] = [a.removeprefix("--destination=") for a in args if a.startswith("--destination=")]
    tag = destination.rsplit(":", 1)[1]
    assert DOCKER_TAG.match(tag) and len(tag) == 128
    assert tag[14:].startswith("-jurgen-muller-xxx")  # accents transliterated, CJK dropped, capped
    assert git_accepts(f"refs/tags/{tag}")  # GitLab gets it as a git tag
    assert [t["tag_name"] for t in gitlab_api.tags] == [tag]


def test_a_commit_sharing_a_built_commits_short_id_gets_its_own_build(hook, gitlab_api, cluster):
    first, second = "3c" * 20, "3c" * 4 + "e" * 32  # the build Job is named by the first 8 characters
    assert hook.post(push(after=first, user="alice")).status_code == 202
    work(hook.rt)
    assert hook.post(push(after=second, user="bob")).status_code == 202
    work(hook.rt)
    kube = connect(cluster.admin_kubeconfig)  # the test looks as the cluster admin, not as Dockyard
    job = kube.dynamic.resources.get(api_version="batch/v1", kind="Job").get(
        name=f"build-web-{second[:8]}", namespace=BUILDS_NAMESPACE)
    assert job.metadata.annotations["dockyard.dev/commit"] == second
    assert any(a.endswith(f"#{second}") for a in job.spec.template.spec.containers[0].args)
    assert [(t["ref"], t["tag_name"].split("-", 1)[1]) for t in gitlab_api.tags] == [(first, "alice"), (second, "bob")]
    assert [s["state"] for s in gitlab_api.statuses if s["sha"] == second][-1] == "success"


# 10. A delivery is marked seen only once it is queued.

def test_a_delivery_refused_as_malformed_is_built_when_gitlab_delivers_it_again(webhook):
    bad = {**push(), "checkout_sha": 123}
    first = webhook.post(bad, uuid="delivery-7")
    assert first.status_code == 400 and builds(webhook.rt) == []
    retry = webhook.post(push(), uuid="delivery-7")
    assert retry.status_code == 202
    assert [b["service"] for b in builds(webhook.rt)] == ["web"]
    again = webhook.post(push(), uuid="delivery-7")
    assert again.get_json() == {"duplicate": "delivery delivery-7 was already accepted"}
    assert len(builds(webhook.rt)) == 1


def test_an_ignored_delivery_is_not_remembered(webhook):
    assert webhook.post(push(ref="refs/heads/feature/x"), uuid="delivery-8").get_json() == {
        "ignored": "branch feature/x is not built for web"}
    assert webhook.post(push(), uuid="delivery-8").status_code == 202  # same id, now a built branch


# 16. GitLab's own payloads are accepted.

FIXTURE_CASES = [  # file, answer, what it says or which builds are queued (service, commit, user)
    ("push.json", 202, [("web", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "jsmith")]),
    ("push-gitlab-8.json", 202, [("web", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "John Smith")]),
    ("tag-push.json", 202, [("api", "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", "John Smith")]),
    ("tag-push-gitlab-8.json", 202, [("api", "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", "John Smith")]),
    ("push-as-documented.json", 200, "project mike/diaspora is not in the catalog"),
    ("push-gitlab-10.json", 200, "branch master is not built for web"),
    ("push-branch-deleted.json", 200, "branch main was deleted"),
    ("tag-deleted.json", 200, "tag v1.0.0 was deleted"),
]


@pytest.mark.parametrize("name,status,expected", FIXTURE_CASES, ids=[c[0] for c in FIXTURE_CASES])
def test_gitlab_documented_payloads_are_built_or_ignored_with_a_reason(webhook, name, status, expected):
    payload = json.loads((FIXTURES / name).read_text())
    event = "Tag Push Hook" if payload["object_kind"] == "tag_push" else "Push Hook"
    response = webhook.post(payload, event=event)
    assert response.status_code == status
    if status == 202:
        assert [(b["service"], b["sha"], b["user"]) for b in builds(webhook.rt)] == expected
    else:
        assert response.get_json() == {"ignored": expected}
        assert builds(webhook.rt) == []


def test_every_fixture_is_tested():
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(c[0] for c in FIXTURE_CASES)


@pytest.mark.parametrize("drop,user", [
    ((), "jsmith"), (("user_username",), "John Smith"), (("user_username", "user_name"), "john"),
    (("user_username", "user_name", "user_email"), "4"),
    (("user_username", "user_name", "user_email", "user_id"), "unknown"),
])
def test_the_pusher_is_named_by_what_the_event_carries(webhook, drop, user):
    payload = {k: v for k, v in json.loads((FIXTURES / "push.json").read_text()).items() if k not in drop}
    assert webhook.post(payload).status_code == 202
    assert [b["user"] for b in builds(webhook.rt)] == [user]


# 17. Build pods carry no Kubernetes API token.

def test_the_build_pod_gets_no_service_account_token(hook, gitlab_api, cluster):
    sha = "2e" * 20  # a commit of its own: the session's cluster is shared with test_gitlab
    response = hook.post(push(project="shop/api", ref="refs/tags/v2.0", after=sha), event="Tag Push Hook")
    assert response.status_code == 202
    work(hook.rt)
    kube = connect(cluster.admin_kubeconfig)  # the test looks as the cluster admin, not as Dockyard
    [pod] = kube.core.list_namespaced_pod(BUILDS_NAMESPACE, label_selector=f"job-name=build-api-{sha[:8]}").items
    assert pod.spec.automount_service_account_token is False
    projected = [v for v in pod.spec.volumes or [] if v.projected]
    assert not any(s.service_account_token for v in projected for s in v.projected.sources or [])
    assert all("/var/run/secrets/kubernetes.io" not in m.mount_path for m in pod.spec.containers[0].volume_mounts)
