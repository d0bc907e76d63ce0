"""Dockyard's Kubernetes identity holds exactly what its code calls: every grant used, nothing refused, no Secrets.

The apiserver of the local cluster audits Dockyard's identity (deploy/local/cluster.py). One module-scoped
run drives every code path that talks to Kubernetes — rollouts through each router, canary and promote,
/scale, /restart, /autoscale, /status, /logs, /history, a scheduled job's deploy and /status, a build that
fails and is built again, the health watcher — and the audit log of that run is compared with the table in
deploy/manifests/rbac.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import SecretStr
from redis import Redis

from core import runtime
from core.config import Settings
from core.runtime import Runtime
from deploy.kube import connect
from deploy.local.gitlab_standin import GitLabAPI
from deploy.manifests import rbac
from watcher.clusters import probe
from watcher.loop import Watcher
from rules import load_rules
from tests.rollout_fixtures import Chat, write_rules
from deploy.local.services import wait_until

NS = "shop-test"
API_TOKEN = "glpat-rbac"
# One service per router, so every traffic object kind is applied (and the nginx canary Ingress deleted),
# and a scheduled job (its CronJob applied and read, its runs listed and watched).
SERVICES = {"rbn": {"router": "nginx", "host": "rbn.example.com"}, "rbi": {"router": "istio"},
            "rbg": {"router": "gateway"}, "rbc": {"kind": "cronjob", "schedule": "0 0 1 1 *"}}
# Granted to every authenticated user by the cluster's defaults (system:basic-user), not by Dockyard's Roles.
EVERYONE = {("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
            ("authorization.k8s.io", "selfsubjectrulesreviews", "create"),
            ("authentication.k8s.io", "selfsubjectreviews", "create")}

Key = tuple[str, str, str]  # (API group, resource[/subresource], verb)


def _table(grants: tuple[rbac.Grant, ...]) -> set[Key]:
    return {(g.group, g.resource, g.verb) for g in grants}


def _rules_dir(tmp: Path) -> Path:
    """The test catalog (everything in shop-test) plus one small service per router, each built from shop/<name>."""
    write_rules(tmp)
    catalog = yaml.safe_load((tmp / "catalog.yaml").read_text())
    for name, spec in SERVICES.items():
        catalog["services"][name] = {"team": "storefront", "language": "node", "git": f"shop/{name}", "port": 3000,
                                     **spec, "environments": {"test": {
                                         "namespace": NS, "replicas": 1, "resources": "0.5C1G",
                                         "progress_deadline": 6}}}
    # A configuration read from a ConfigMap (its `get`), and an HPA from the catalog that a later catalog drops.
    catalog["services"]["rbi"]["config"] = {"env": {"MODE": {"configmap": "rbi-config", "key": "mode"}}}
    catalog["services"]["rbg"]["environments"]["test"]["autoscale"] = {"min": 1, "max": 2}
    (tmp / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return tmp


def _audit(log: Path, start: int) -> list[dict]:
    """Complete audit events written after byte `start`."""
    with log.open("rb") as handle:
        handle.seek(start)
        data = handle.read()
    return [json.loads(line) for line in data.split(b"\n")[:-1] if line.strip()]  # the last one may be half written


def _key(event: dict) -> Key | None:
    ref = event.get("objectRef")
    if not ref:  # discovery (/api, /apis): non-resource URLs every identity may read
        return None
    resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
    return ref.get("apiGroup", ""), resource, event["verb"]


def _used(events: list[dict], namespaces: set[str]) -> set[Key]:
    """(group, resource, verb) Dockyard was allowed to call in these namespaces.

    Server-side apply is one PATCH; when it creates the object (201) the apiserver has also checked `create`.
    """
    out: set[Key] = set()
    for event in events:
        key = _key(event)
        code = event.get("responseStatus", {}).get("code")
        if key is None or code == 403 or event["objectRef"].get("namespace") not in namespaces:
            continue
        out.add(key)
        if key[2] == "patch" and code == 201:
            out.add((key[0], key[1], "create"))
    return out


@pytest.fixture(scope="module")
def driven(cluster, redis_server, tmp_path_factory) -> Iterator[list[dict]]:
    """Every Kubernetes call Dockyard's code makes, run once; the audit events of that run."""
    redis = Redis.from_url(redis_server.url)
    redis.flushdb()
    rules_dir = _rules_dir(tmp_path_factory.mktemp("rbac-rules"))
    gitlab = GitLabAPI(API_TOKEN, {f"shop/{name}": {"id": 100 + i, "branches": {"main": f"{i}" * 40}}
                                   for i, name in enumerate(SERVICES, 1)}).start()
    # The Kaniko image tag ending in -fail makes kwok fail the build pod, so the failure report
    # (pod list and log) runs, and a second /build of the same commit deletes the failed Job.
    settings = Settings(redis_url=redis_server.url, rules_dir=rules_dir, kubeconfig=cluster.dockyard_kubeconfig,
                        gitlab_url=gitlab.url, gitlab_token=SecretStr(API_TOKEN), job_retries=0,
                        job_backoff=(0,), kaniko_image="registry.local/kaniko/executor:v1-fail")
    previous = runtime._current
    rt = runtime.install(Runtime(settings=settings, rules=load_rules(rules_dir)))
    start = cluster.audit_log.stat().st_size if cluster.audit_log.exists() else 0
    chat = Chat(rt)
    watcher = None
    try:  # the team's ConfigMap, made by the admin: Dockyard only reads it
        connect(cluster.admin_kubeconfig).core.create_namespaced_config_map(NS, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="rbi-config"), data={"mode": "fast"}))
    except ApiException as exc:
        if exc.status != 409:
            raise
    try:
        script = ["/deploy rbn v1", "/deploy rbn v2 canary 50%", "/deploy rbn promote", "/scale rbn 2",
                  "/restart rbn", "/autoscale rbn 1-3", "/status rbn", "/logs rbn", "/history rbn",
                  "/deploy rbi v1", "/config rbi", "/deploy rbg v1", "/deploy rbc v1", "/status rbc",
                  "/build rbn main", "/build rbn main"]
        for text in script:
            replies = chat("alice", text)
            assert replies and not any(r["text"].startswith("✖ /") for r in replies), (text, replies)
        catalog = yaml.safe_load((rules_dir / "catalog.yaml").read_text())
        del catalog["services"]["rbg"]["environments"]["test"]["autoscale"]
        (rules_dir / "catalog.yaml").write_text(yaml.safe_dump(catalog))
        rt = runtime.install(Runtime(settings=settings, rules=load_rules(rules_dir)))
        replies = Chat(rt)("alice", "/deploy rbg v2")  # the catalog no longer autoscales rbg: its HPA goes
        assert replies and not any(r["text"].startswith("✖ /") for r in replies), replies
        watcher = Watcher(rt, quiet_seconds=2, sweep_every=0.5).start()
        assert probe(rt, "default").state == "ok"  # the cluster's health check: its API, its nodes

        def watching() -> bool:
            kinds = {(k[1], k[2]) for k in _used(_audit(cluster.audit_log, start), {NS})}
            return {("pods", "watch"), ("events", "watch"), ("endpointslices", "watch"), ("jobs", "watch")} <= kinds
        wait_until(watching, 30, "the watcher watching pods, events, endpointslices and jobs", interval=0.2)
    finally:
        if watcher is not None:
            watcher.close()
        runtime._current = previous
        gitlab.stop()
    # A call returns before the apiserver writes its audit event: give the last ones a moment to land.
    # A grant that never shows up is reported by the tests below, with the difference.
    wanted = _table(rbac.CATALOG_GRANTS) | _table(rbac.BUILD_GRANTS)
    mine = set(cluster.namespaces) | {rbac.BUILDS_NAMESPACE}
    try:
        wait_until(lambda: wanted <= _used(_audit(cluster.audit_log, start), mine), 10, "every granted verb")
    except TimeoutError:
        pass
    yield _audit(cluster.audit_log, start)


def test_every_granted_verb_is_called_by_dockyard_in_its_namespaces(driven, cluster):
    catalog = _used(driven, set(cluster.namespaces))
    builds = _used(driven, {rbac.BUILDS_NAMESPACE})
    assert sorted(_table(rbac.CATALOG_GRANTS) - catalog) == [], "granted in catalog namespaces, never used"
    assert sorted(catalog - _table(rbac.CATALOG_GRANTS)) == [], "used in catalog namespaces, not in the table"
    assert sorted(_table(rbac.BUILD_GRANTS) - builds) == [], "granted in dockyard-builds, never used"
    assert sorted(builds - _table(rbac.BUILD_GRANTS)) == [], "used in dockyard-builds, not in the table"


def test_nothing_dockyard_calls_is_refused_or_outside_its_namespaces(driven, cluster):
    assert all(e["user"]["username"] == rbac.USER for e in driven)
    refused = [(e["verb"], e["requestURI"]) for e in driven if e.get("responseStatus", {}).get("code") == 403]
    assert refused == []
    mine = set(cluster.namespaces) | {rbac.BUILDS_NAMESPACE}
    elsewhere = [(e["verb"], e["requestURI"]) for e in driven
                 if e.get("objectRef") and e["objectRef"].get("namespace") not in mine
                 and _key(e) not in _table(rbac.CLUSTER_GRANTS)]
    assert elsewhere == []  # nothing in dockyard-system or any other namespace; cluster-wide only the table's
    cluster_wide = {_key(e) for e in driven if e.get("objectRef") and not e["objectRef"].get("namespace")}
    assert cluster_wide == _table(rbac.CLUSTER_GRANTS)  # listing nodes for the health check, used and nothing else


def _effective(api: client.ApiClient, namespace: str) -> set[Key]:
    """What the apiserver says Dockyard may do in a namespace (a SelfSubjectRulesReview, as Dockyard)."""
    review = client.AuthorizationV1Api(api).create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=namespace)))
    assert not review.status.incomplete
    out: set[Key] = set()
    for rule in review.status.resource_rules:
        assert not rule.resource_names, rule  # nothing is granted by name: there is nothing to name
        out |= {(g, r, v) for g in rule.api_groups for r in rule.resources for v in rule.verbs}
    return out - EVERYONE


def test_effective_permissions_are_exactly_the_table(cluster):
    api = connect(cluster.dockyard_kubeconfig).api
    everywhere = _table(rbac.CLUSTER_GRANTS)  # a ClusterRole's rules show in every namespace's review
    for ns in cluster.namespaces:
        assert _effective(api, ns) == _table(rbac.CATALOG_GRANTS) | everywhere, ns
    assert _effective(api, rbac.BUILDS_NAMESPACE) == _table(rbac.BUILD_GRANTS) | everywhere
    for ns in (rbac.SYSTEM_NAMESPACE, "kube-system", "default"):
        assert _effective(api, ns) == everywhere, ns


def test_secrets_are_refused_everywhere_even_the_build_credentials(cluster):
    admin = connect(cluster.admin_kubeconfig)
    name = "dockyard-registry"  # the Secret the Kaniko pod mounts: the kubelet reads it, Dockyard never does
    try:
        admin.core.create_namespaced_secret(rbac.BUILDS_NAMESPACE, client.V1Secret(
            metadata=client.V1ObjectMeta(name=name), type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": '{"auths": {}}'}))
    except ApiException as exc:
        if exc.status != 409:  # already there from an earlier test
            raise
    dockyard = connect(cluster.dockyard_kubeconfig)
    with pytest.raises(ApiException) as err:
        dockyard.core.read_namespaced_secret(name, rbac.BUILDS_NAMESPACE)
    assert err.value.status == 403
    authz = client.AuthorizationV1Api(dockyard.api)
    for ns in [*rbac.namespaces_of(cluster.namespaces), "kube-system", "default"]:
        for verb in ("get", "list", "watch"):
            review = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    namespace=ns, verb=verb, resource="secrets", name=name if verb == "get" else None))))
            assert review.status.allowed is False, (ns, verb)

