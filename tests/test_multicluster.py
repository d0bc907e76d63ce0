"""An environment split across two local control planes, started side by side like `./dockyard cluster up --name`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from core import audit, runtime
from deploy import fetching
from deploy.kube import connect
from tests.kubehelp import wait_pods
from tests.rollout_fixtures import Chat, live_runtime, write_rules

NS = "shop-prod"
REPO = "registry.local/shop"
# What a cluster's own admission refuses: any pod of `split` at v2 (a broken node pool, a policy, a quota).
REFUSE_V2 = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: refuse-split-v2}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
  - expression: "!object.spec.containers.exists(c, c.image.endsWith('/split:v2'))"
    message: this cluster refuses split v2
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: refuse-split-v2}
spec:
  policyName: refuse-split-v2
  validationActions: [Deny]
"""


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory, example_rules):
    from deploy.local.cluster import LocalCluster

    namespaces = sorted({env.namespace for svc in example_rules.catalog.services.values()
                         for env in svc.environments.values()})
    started = []
    try:
        for name in ("east", "west"):
            started.append(LocalCluster(root=tmp_path_factory.mktemp(f"cluster-{name}"), namespaces=namespaces).up())
        yield dict(zip(("east", "west"), started))
    finally:
        for local in started:
            local.down()


def split_rules(directory: Path, clusters: dict, on_failure: str = "rollback", build_cluster: str = "east",
                autoscale: dict | None = None) -> Path:
    """The test catalog plus `split`: prod across east (3) and west (2), with `autoscale` in prod when given."""
    write_rules(directory)
    catalog = yaml.safe_load((directory / "catalog.yaml").read_text())
    catalog["clusters"] = {name: {"kubeconfig": str(c.dockyard_kubeconfig), "labels": {"region": name}}
                           for name, c in clusters.items()}
    catalog["build_cluster"] = build_cluster
    catalog["environments"] = [{"name": "test", "cluster": "east"},
                               {"name": "prod", "approval": "none", "on_failure": on_failure,
                                "clusters": {"east": 3, "west": 2}}]
    catalog["services"]["split"] = {
        "team": "storefront", "language": "node", "git": "shop/split", "port": 3000, "router": "replicas",
        "environments": {"test": {"namespace": "shop-test", "replicas": 1, "resources": "0.5C1G",
                                  "progress_deadline": 6},
                         "prod": {"namespace": NS, "replicas": 5, "resources": "0.5C1G", "progress_deadline": 6}}}
    if autoscale:
        catalog["services"]["split"]["environments"]["prod"]["autoscale"] = autoscale
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return directory


@pytest.fixture
def chat(redis, two_clusters, tmp_path):
    previous = runtime._current
    url = f"redis://127.0.0.1:{redis.connection_pool.connection_kwargs['port']}/0"
    rt = runtime.install(live_runtime(url, split_rules(tmp_path, two_clusters), two_clusters["east"].dockyard_kubeconfig))
    yield Chat(rt)
    runtime._current = previous


def to_prod(chat, tag: str) -> list[dict]:
    """An image reaches prod only after test (on east), as the catalog's order says."""
    chat("alice", f"/deploy split {tag}")
    return chat("alice", f"/deploy split {tag} to prod")


def _images(two_clusters) -> dict[str, str | None]:
    out = {}
    for name, local in two_clusters.items():
        dep = fetching.read_deployment(connect(local.admin_kubeconfig), NS, "split")
        out[name] = fetching.image_of(dep) if dep else None
    return out


def _until_refused(local) -> None:
    """The apiserver enforces a new admission policy once its informer has it: wait for a refused dry run."""
    from kubernetes.client.exceptions import ApiException

    from deploy.local.services import wait_until

    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe-v2"},
           "spec": {"containers": [{"name": "c", "image": f"{REPO}/split:v2"}]}}

    def refused() -> bool:
        try:
            connect(local.admin_kubeconfig).core.create_namespaced_pod(NS, pod, dry_run="All")
        except ApiException as exc:
            return exc.status in (400, 403, 422) and "refuses split v2" in (exc.body or "")
        return False
    wait_until(refused, 20, "the admission policy in force", interval=0.2)


def test_an_environment_split_3_and_2_converges_to_5_ready_pods_in_one_message(chat, two_clusters):
    final = to_prod(chat, "v1")[-1]
    assert final["text"].startswith("✔ split (prod): rolling update to v1 — done on 2 clusters"), final["text"]
    assert re.search(r"east +3/3 ready", final["text"]) and re.search(r"west +2/2 ready", final["text"])
    assert re.search(r"total +5/5 ready on 2 clusters", final["text"])
    east = wait_pods(connect(two_clusters["east"].admin_kubeconfig), NS, "split", 3)
    west = wait_pods(connect(two_clusters["west"].admin_kubeconfig), NS, "split", 2)
    assert len(east) + len(west) == 5
    assert _images(two_clusters) == {"east": f"{REPO}/split:v1", "west": f"{REPO}/split:v1"}


def test_a_failure_in_one_cluster_rolls_both_back_and_names_the_cluster(chat, two_clusters):
    to_prod(chat, "v1")
    west_admin = two_clusters["west"]
    west_admin.kubectl("apply", "-f", "-", stdin=REFUSE_V2)
    _until_refused(west_admin)
    try:
        final = to_prod(chat, "v2")[-1]
    finally:
        west_admin.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "refuse-split-v2")
    assert final["message"]["severity"] == "error"
    assert final["text"].startswith("✖ split (prod): rolling update to v2 failed on west; rolled back"), final["text"]
    assert "west failed: no progress for 6s" in final["text"]
    assert "east: rolled back to revision 1" in final["text"] and "west: rolled back to revision 1" in final["text"]
    assert _images(two_clusters) == {"east": f"{REPO}/split:v1", "west": f"{REPO}/split:v1"}


def test_a_rollout_refuses_to_start_when_a_cluster_does_not_answer(chat, two_clusters):
    to_prod(chat, "v1")
    chat("alice", "/deploy split v3")
    west = two_clusters["west"]
    west.stop("kube-apiserver")
    try:
        final = chat("alice", "/deploy split v3 to prod")[-1]
    finally:
        west.restart_apiserver()
    assert "not starting on split (prod): cluster west: its API does not answer" in final["text"], final["text"]
    assert "Nothing was changed on any cluster" in final["text"]
    assert _images(two_clusters)["east"] == f"{REPO}/split:v1"  # east was not touched either


def test_status_and_history_show_each_cluster_and_the_total(chat, two_clusters):
    to_prod(chat, "v1")
    to_prod(chat, "v4")
    [status] = chat("alice", "/status split in prod")
    text = status["text"]
    assert "prod on east: 3/3 ready, 3 updated, image registry.local/shop/split:v4" in text, text
    assert "prod on west: 2/2 ready, 2 updated, image registry.local/shop/split:v4" in text
    assert "prod in all: 5/5 ready on 2 clusters" in text
    [history] = chat("alice", "/history split in prod")
    assert re.search(r"#\d+  v1  alice .* on east, west", history["text"]), history["text"]
    assert re.search(r"#\d+  v4  alice .* on east, west  ← current", history["text"])
    [logs] = chat("alice", "/logs split --tail 2 in prod")
    assert logs["text"].count("── east/split-") == 3 and logs["text"].count("── west/split-") == 2, logs["text"]
    west = two_clusters["west"]
    west.stop("kube-apiserver")
    try:
        [status] = chat("alice", "/status split in prod")
        [logs] = chat("alice", "/logs split --tail 2 in prod")
        [config] = chat("alice", "/config split in prod")
    finally:
        west.restart_apiserver()
    assert "prod on west: unreachable (its API does not answer" in status["text"], status["text"]
    assert "prod on east: 3/3 ready" in status["text"]  # one cluster down does not hide the other
    assert logs["text"].count("── east/split-") == 3 and "(cluster unreachable: " in logs["text"], logs["text"]
    assert "DOCKYARD_SERVICE = split, DOCKYARD_ENV = prod" in config["text"], config["text"]


def test_canary_promote_scale_rollback_and_restart_act_on_every_cluster(chat, two_clusters):
    east, west = (connect(two_clusters[n].admin_kubeconfig) for n in ("east", "west"))
    to_prod(chat, "v1")
    chat("alice", "/deploy split v5")
    live = chat("alice", "/deploy split v5 canary 40% in prod")[-1]
    assert live["text"].startswith("✔ split (prod): canary 40% of v5 — done on 2 clusters"), live["text"]
    assert re.search(r"east +40% asked, 2 of 5 pods", live["text"]) and re.search(r"west +40% asked, 1 of 3 pods",
                                                                                   live["text"])
    for kube in (east, west):
        assert fetching.image_of(fetching.read_deployment(kube, NS, "split-canary")) == f"{REPO}/split:v5"
    promoted = chat("alice", "/deploy split promote in prod")[-1]
    assert promoted["text"].startswith("✔ split (prod): promote to stable — done on 2 clusters"), promoted["text"]
    assert _images(two_clusters) == {"east": f"{REPO}/split:v5", "west": f"{REPO}/split:v5"}
    assert all(fetching.read_deployment(k, NS, "split-canary") is None for k in (east, west))

    scaled = chat("alice", "/scale split 10 in prod")[-1]
    assert "scale to 10 (6 on east, 4 on west) — done on 2 clusters" in scaled["text"], scaled["text"]
    wait_pods(east, NS, "split", 6)
    wait_pods(west, NS, "split", 4)

    # the previous image is whichever ran before v5 on the first cluster (earlier tests deployed others)
    earlier = [r.image for r in fetching.history(east, NS, "split") if r.image != f"{REPO}/split:v5"]
    back = chat("alice", "/rollback split in prod")[-1]
    assert "split (prod): rollback to revision" in back["text"], back["text"]
    assert f"({earlier[-1].rsplit(':', 1)[1]}) — done on 2 clusters" in back["text"]
    assert _images(two_clusters) == {"east": earlier[-1], "west": earlier[-1]}

    restarted = chat("alice", "/restart split in prod")[-1]
    assert restarted["text"].startswith("✔ split (prod): restart — done on 2 clusters"), restarted["text"]
    for kube in (east, west):
        template = fetching.read_deployment(kube, NS, "split").spec.template.metadata.annotations
        assert "kubectl.kubernetes.io/restartedAt" in template


def test_a_cluster_that_stops_answering_is_an_incident_and_the_other_keeps_working(chat, two_clusters):
    """The watcher fleet: one Watcher per cluster and the clusters' health, on real apiservers."""
    from jobs.queues import QUEUES
    from jobs.worker import DockyardSimpleWorker
    from deploy.local.services import wait_until
    from tests.rollout_fixtures import feed
    from watcher.loop import Fleet

    rt = chat.rt
    to_prod(chat, "v1")
    fleet = Fleet(rt, quiet_seconds=2, health_every=0.5).start()
    east_admin, west_admin = (connect(two_clusters[n].admin_kubeconfig) for n in ("east", "west"))

    def pump(until, what: str, timeout: float = 30) -> None:
        def step() -> bool:
            DockyardSimpleWorker(list(QUEUES), connection=rt.redis).work(burst=True)
            return until()
        wait_until(step, timeout, what, interval=0.3)

    def said(text: str) -> list[dict]:
        return [m for m in feed(rt) if text in m["text"]]

    west = two_clusters["west"]
    try:
        west.stop("kube-apiserver")
        pump(lambda: said("cluster west: API unreachable"), "the cluster incident")
        [incident] = said("cluster west: API unreachable")
        assert incident["message"]["severity"] == "critical"
        assert "region=west" in incident["text"] and "the other clusters keep working" in incident["text"]
        # east keeps working while west is down: an OOM there reaches the team, naming the cluster
        pod = next(p.metadata.name for p in fetching.pods(east_admin, NS, {"app": "split"}) if fetching.is_ready(p))
        east_admin.core.patch_namespaced_pod(pod, NS, {"metadata": {"annotations": {
            "dockyard.dev/simulate": "oom", "dockyard.dev/simulate-interval": "1s"}}})
        pump(lambda: [m for m in said("split (prod): OOMKilled") if "east" in m["text"]], "an OOM on east")
        west.restart_apiserver()
        pump(lambda: said("RESOLVED cluster west: healthy again"), "the cluster incident resolved")
        # west's watch resumed after its apiserver came back: an OOM there reaches the team too, naming west
        pod = next(p.metadata.name for p in fetching.pods(west_admin, NS, {"app": "split"}) if fetching.is_ready(p))
        west_admin.core.patch_namespaced_pod(pod, NS, {"metadata": {"annotations": {
            "dockyard.dev/simulate": "oom", "dockyard.dev/simulate-interval": "1s"}}})
        pump(lambda: said("split (prod): OOMKilled on west"), "an OOM on west", 60)
    finally:
        fleet.close()
        for admin in (east_admin, west_admin):
            for p in fetching.pods(admin, NS, {"app": "split"}):
                admin.core.patch_namespaced_pod(p.metadata.name, NS, {"metadata": {"annotations": {
                    "dockyard.dev/simulate": None}}})
        if not west.running():
            west.restart_apiserver()


def test_builds_run_in_the_cluster_the_catalog_names(redis, two_clusters, tmp_path):
    from pydantic import SecretStr

    from core.config import Settings
    from core.runtime import Runtime
    from deploy.build.kaniko import BUILDS_NAMESPACE
    from deploy.local.gitlab_standin import GitLabAPI
    from rules import load_rules

    gitlab = GitLabAPI("glpat-mc", {"shop/split": {"id": 7, "branches": {"main": "7" * 40}}}).start()
    previous = runtime._current
    rules_dir = split_rules(tmp_path, two_clusters, build_cluster="west")
    settings = Settings(redis_url=f"redis://127.0.0.1:{redis.connection_pool.connection_kwargs['port']}/0",
                        rules_dir=rules_dir, gitlab_url=gitlab.url, gitlab_token=SecretStr("glpat-mc"),
                        job_retries=0, job_backoff=(0,))
    rt = runtime.install(Runtime(settings=settings, rules=load_rules(rules_dir)))
    try:
        Chat(rt)("alice", "/build split main")
    finally:
        runtime._current = previous
        gitlab.stop()

    def builds(name: str) -> list[str]:
        jobs = connect(two_clusters[name].admin_kubeconfig).batch.list_namespaced_job(BUILDS_NAMESPACE).items
        return [j.metadata.name for j in jobs if "split" in j.metadata.name]

    assert builds("west") and not builds("east")  # KUBECONFIG is not even set: the catalog says where


# A cluster's own limit on autoscaling (a quota, a policy): no HPA of `split` may reach past 4 replicas there.
CAP_HPA = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: cap-split-hpa}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [autoscaling], apiVersions: ["*"], operations: [CREATE, UPDATE], resources: [horizontalpodautoscalers]}
  validations:
  - expression: "object.spec.maxReplicas <= 4"
    message: this cluster caps split at 4 replicas
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: cap-split-hpa}
spec:
  policyName: cap-split-hpa
  validationActions: [Deny]
"""


def _hpa_range(kube) -> tuple[int, int] | None:
    hpa = fetching.read_autoscaler(kube, NS, "split")
    return (hpa.spec.min_replicas, hpa.spec.max_replicas) if hpa else None


def _until_capped(local) -> None:
    """Wait until west's apiserver enforces CAP_HPA (a refused dry run), as _until_refused does for pods."""
    from kubernetes.client.exceptions import ApiException

    from deploy.local.services import wait_until

    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "probe-cap"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "split"},
                    "minReplicas": 1, "maxReplicas": 5}}

    def refused() -> bool:
        try:
            connect(local.admin_kubeconfig).autoscaling.create_namespaced_horizontal_pod_autoscaler(
                NS, hpa, dry_run="All")
        except ApiException as exc:
            return exc.status in (400, 403, 422) and "caps split at 4" in (exc.body or "")
        return False
    wait_until(refused, 20, "the HPA cap in force", interval=0.2)


def test_autoscale_splits_its_range_across_clusters_puts_back_on_a_refusal_and_off_removes_both(chat, two_clusters):
    east, west = (connect(two_clusters[n].admin_kubeconfig) for n in ("east", "west"))
    to_prod(chat, "v1")
    west_admin = two_clusters["west"]
    west_admin.kubectl("apply", "-f", "-", stdin=CAP_HPA)
    try:
        _until_capped(west_admin)
        done = chat("alice", "/autoscale split 2-10 cpu=70% in prod")[-1]
        assert done["text"].startswith("✔ split (prod): autoscaling 2–10 replicas at 70% CPU on 2 clusters"), \
            done["text"]
        assert re.search(r"east +1–6", done["text"]) and re.search(r"west +1–4", done["text"])
        assert "the minimum is 2 in all" not in done["text"]  # 2 split 3:2 is 1 + 1: as asked
        assert (_hpa_range(east), _hpa_range(west)) == ((1, 6), (1, 4))
        for kube in (east, west):
            hpa = fetching.read_autoscaler(kube, NS, "split")
            assert hpa.spec.metrics[0].resource.target.average_utilization == 70
            assert hpa.metadata.annotations["dockyard.dev/autoscale-set-by"].startswith("alice at ")
        assert "is autoscaled on" in chat("alice", "/scale split 10 in prod")[-1]["text"]

        # 4-12 is 2–7 on east and 2–5 on west, past west's cap: east goes back to what it had
        refused = chat("alice", "/autoscale split 4-12 in prod")[-1]
        assert refused["message"]["severity"] == "error", refused["text"]
        assert refused["text"].startswith("✖ split (prod): autoscale 4–12 failed on west"), refused["text"]
        assert "west failed: the API said 422" in refused["text"] and "caps split at 4 replicas" in refused["text"]
        assert "east: put back to 1–6" in refused["text"]
        assert (_hpa_range(east), _hpa_range(west)) == ((1, 6), (1, 4))
        assert fetching.read_autoscaler(east, NS, "split").spec.metrics[0].resource.target.average_utilization == 70
        logged = [(e.command, e.result) for e in audit.since(chat.rt.redis, 600) if "autoscale split" in e.command]
        assert ("autoscale split in prod: 2–10 at 70% CPU (east 1–6, west 1–4; catalog says none)", "applied") \
            in logged, logged
        assert not any("4–12" in command for command, _ in logged)  # put back everywhere: nothing stands
    finally:
        west_admin.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "cap-split-hpa")

    off = chat("alice", "/autoscale split off in prod")[-1]
    assert off["text"].startswith("✔ split (prod): autoscaling off on 2 clusters"), off["text"]
    assert re.search(r"east +HPA removed", off["text"]) and re.search(r"west +HPA removed", off["text"])
    assert _hpa_range(east) is None and _hpa_range(west) is None
    again = chat("alice", "/autoscale split off in prod")[-1]
    assert re.search(r"east +had no HPA", again["text"]), again["text"]
    scaled = chat("alice", "/scale split 5 in prod")[-1]  # no HPA owns the replicas any more
    assert "scale to 5 (3 on east, 2 on west) — done on 2 clusters" in scaled["text"], scaled["text"]


def test_a_catalog_autoscale_on_a_split_environment_gives_each_cluster_its_share(redis, two_clusters, tmp_path):
    east, west = (connect(two_clusters[n].admin_kubeconfig) for n in ("east", "west"))
    previous = runtime._current
    url = f"redis://127.0.0.1:{redis.connection_pool.connection_kwargs['port']}/0"
    rules_dir = split_rules(tmp_path, two_clusters, autoscale={"min": 2, "max": 10, "cpu": 60})
    chat = Chat(runtime.install(live_runtime(url, rules_dir, two_clusters["east"].dockyard_kubeconfig)))
    try:
        final = to_prod(chat, "v1")[-1]
        assert "done on 2 clusters" in final["text"], final["text"]
        # not 2–10 on each (4–20 in all): the catalog's range split 3:2 like the replicas
        assert (_hpa_range(east), _hpa_range(west)) == ((1, 6), (1, 4))
        assert fetching.read_autoscaler(west, NS, "split").metadata.annotations[
            "dockyard.dev/autoscale-catalog"] == "1–4 at 60% CPU"
        off = chat("alice", "/autoscale split off in prod")[-1]
        assert "the catalog says autoscale 2–10 at 60% CPU for prod: the next deploy applies it again" in off["text"]
    finally:
        runtime._current = previous
        for kube in (east, west):
            if fetching.read_autoscaler(kube, NS, "split"):
                kube.autoscaling.delete_namespaced_horizontal_pod_autoscaler("split", NS)


def test_on_failure_hold_undoes_only_the_failed_cluster(redis, two_clusters, tmp_path):
    previous = runtime._current
    url = f"redis://127.0.0.1:{redis.connection_pool.connection_kwargs['port']}/0"
    rules_dir = split_rules(tmp_path, two_clusters, on_failure="hold")
    chat = Chat(runtime.install(live_runtime(url, rules_dir, two_clusters["east"].dockyard_kubeconfig)))
    west_admin = two_clusters["west"]
    try:
        to_prod(chat, "v1")
        west_admin.kubectl("apply", "-f", "-", stdin=REFUSE_V2)
        _until_refused(west_admin)
        final = to_prod(chat, "v2")[-1]
    finally:
        runtime._current = previous
        west_admin.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "refuse-split-v2")
    assert final["text"].startswith("✖ split (prod): rolling update to v2 failed on west; held elsewhere"), final["text"]
    assert "west: rolled back to revision" in final["text"]
    assert "east: held on the new version (on_failure: hold); /rollback split in prod undoes it" in final["text"]
    assert _images(two_clusters) == {"east": f"{REPO}/split:v2", "west": f"{REPO}/split:v1"}

    # /autoscale under hold: west refuses 4-12, east keeps its share, and the audit says where it stands
    east = connect(two_clusters["east"].admin_kubeconfig)
    runtime.install(chat.rt)
    west_admin.kubectl("apply", "-f", "-", stdin=CAP_HPA)
    try:
        _until_capped(west_admin)
        held = chat("alice", "/autoscale split 4-12 in prod")[-1]
    finally:
        runtime._current = previous
        west_admin.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "cap-split-hpa")
        if fetching.read_autoscaler(east, NS, "split"):
            east.autoscaling.delete_namespaced_horizontal_pod_autoscaler("split", NS)
    assert held["text"].startswith("✖ split (prod): autoscale 4–12 failed on west"), held["text"]
    logged = [(e.command, e.result) for e in audit.since(chat.rt.redis, 600) if "4–12" in e.command]
    assert logged == [("autoscale split in prod: 4–12 at 80% CPU (east 2–7; catalog says none)",
                       "applied on east only: refused elsewhere")], logged
