"""The local control plane behaves like Kubernetes: controllers, scheduler, kwok stages, RBAC, watch."""

from __future__ import annotations

import subprocess

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from deploy.local.cluster import NODES
from tests.kubehelp import deployment, pods_of, ready, unique, wait_pods
from deploy.local.services import wait_until

NS = "shop-test"


@pytest.fixture(scope="module")
def admin(cluster):
    """The cluster admin: it injects faults and reads single pods, which Dockyard's own identity may not."""
    from deploy.kube import connect

    return connect(cluster.admin_kubeconfig)


def test_three_kwok_nodes_in_two_classes_are_ready(cluster, kube):
    out = cluster.kubectl("get", "nodes", "-L", "dockyard.dev/node-class", "--no-headers")
    rows = [line.split() for line in out.splitlines()]
    assert [(r[0], r[1], r[-1]) for r in rows] == [(name, "Ready", klass) for name, klass in NODES]


def test_deployment_gets_a_replicaset_and_ready_pods_on_kwok_nodes(kube):
    name = unique("web")
    kube.apps.create_namespaced_deployment(NS, deployment(name, replicas=3))
    pods = wait_pods(kube, NS, name, 3)
    assert {p.spec.node_name for p in pods} <= {n for n, _ in NODES}
    [rs] = kube.apps.list_namespaced_replica_set(NS, label_selector=f"app={name}").items
    assert rs.status.ready_replicas == 3
    assert all(p.metadata.owner_references[0].name == rs.metadata.name for p in pods)


def test_image_change_rolls_out_and_shows_in_rollout_history(cluster, kube):
    name = unique("api")
    kube.apps.create_namespaced_deployment(NS, deployment(name, image="registry.local/shop/api:1"))
    wait_pods(kube, NS, name, 2)
    patch = {"metadata": {"annotations": {"kubernetes.io/change-cause": "alice: /deploy api 2"}},
             "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.local/shop/api:2"}]}}}}
    kube.apps.patch_namespaced_deployment(name, NS, patch)
    wait_pods(kube, NS, name, 2, lambda p: ready(p) and p.spec.containers[0].image.endswith(":2"))

    def rolled_out() -> bool:
        dep = kube.apps.read_namespaced_deployment(name, NS)
        return dep.status.updated_replicas == 2 and dep.status.ready_replicas == 2 and \
            (dep.status.replicas or 0) == 2
    wait_until(rolled_out, 30, "rollout")
    history = cluster.kubectl("rollout", "history", f"deployment/{name}", "-n", NS)
    lines = [line.split(None, 1) for line in history.splitlines()[2:] if line.strip()]
    assert lines == [["1", "<none>"], ["2", "alice: /deploy api 2"]]


def test_job_pod_succeeds(kube):
    name = unique("build")
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
           "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
               {"name": "kaniko", "image": "registry.local/kaniko:1"}]}}}}
    kube.batch.create_namespaced_job("dockyard-builds", job)
    wait_until(lambda: (kube.batch.read_namespaced_job(name, "dockyard-builds").status.succeeded or 0) == 1,
               30, "job success")
    [pod] = kube.core.list_namespaced_pod("dockyard-builds", label_selector=f"job-name={name}").items
    assert pod.status.phase == "Succeeded"


def test_annotated_pod_is_oomkilled_and_a_watch_sees_it(kube, admin):
    name = unique("oom")
    kube.apps.create_namespaced_deployment(NS, deployment(name, replicas=1))
    [pod] = wait_pods(kube, NS, name, 1)
    start = kube.core.list_namespaced_pod(NS, label_selector=f"app={name}").metadata.resource_version
    admin.core.patch_namespaced_pod(pod.metadata.name, NS, {"metadata": {"annotations": {
        "dockyard.dev/simulate": "oom", "dockyard.dev/simulate-interval": "500ms"}}})
    seen = None
    for event in watch.Watch().stream(kube.core.list_namespaced_pod, NS, label_selector=f"app={name}",
                                      resource_version=start, timeout_seconds=20):
        status = (event["object"].status.container_statuses or [None])[0]
        if status and status.last_state and status.last_state.terminated and \
                status.last_state.terminated.reason == "OOMKilled":
            seen = status
            break
    assert seen is not None, "the watch never saw OOMKilled"
    assert seen.last_state.terminated.exit_code == 137
    assert seen.state.waiting.reason == "CrashLoopBackOff"
    assert seen.restart_count >= 1
    wait_until(lambda: admin.core.read_namespaced_pod(pod.metadata.name, NS).status.container_statuses[0]
               .restart_count >= 3, 15, "repeated OOMs")  # it keeps OOMing while annotated
    events = kube.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={pod.metadata.name}").items
    assert any(e.type == "Warning" and "OOMKilled" in e.message for e in events)
    admin.core.patch_namespaced_pod(pod.metadata.name, NS, {"metadata": {"annotations": {
        "dockyard.dev/simulate": None}}})
    wait_pods(kube, NS, name, 1)  # fixed: it recovers


def test_endpointslices_follow_ready_pods(kube, admin):
    name = unique("svc")
    kube.apps.create_namespaced_deployment(NS, deployment(name, replicas=2))
    kube.core.create_namespaced_service(NS, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                                             "spec": {"selector": {"app": name}, "ports": [{"port": 80,
                                                                                            "targetPort": 8080}]}})
    pods = wait_pods(kube, NS, name, 2)

    def ready_endpoints() -> int:
        slices = kube.discovery.list_namespaced_endpoint_slice(
            NS, label_selector=f"kubernetes.io/service-name={name}").items
        return sum(1 for s in slices for e in s.endpoints or [] if e.conditions.ready)
    wait_until(lambda: ready_endpoints() == 2, 20, "2 ready endpoints")
    admin.core.patch_namespaced_pod(pods[0].metadata.name, NS, {"metadata": {"annotations": {
        "dockyard.dev/simulate": "unready"}}})
    wait_until(lambda: ready_endpoints() == 1, 20, "1 ready endpoint")
    events = kube.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={pods[0].metadata.name}")
    assert any(e.reason == "Unhealthy" for e in events.items)


def test_image_pull_failure_and_unschedulable_pods(kube, admin):
    pull, nowhere = unique("pull"), unique("nowhere")
    kube.apps.create_namespaced_deployment(NS, deployment(pull, replicas=1,
                                                          pod_annotations={"dockyard.dev/simulate": "imagepull"}))
    kube.apps.create_namespaced_deployment(NS, deployment(nowhere, replicas=1, node_class="gpu"))
    wait_until(lambda: any(p.status.container_statuses and p.status.container_statuses[0].state.waiting and
                           p.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
                           for p in pods_of(kube, NS, pull)), 20, "ImagePullBackOff")
    [pending] = pods_of(kube, NS, nowhere)
    wait_until(lambda: any(e.reason == "FailedScheduling" for e in kube.core.list_namespaced_event(
        NS, field_selector=f"involvedObject.name={pending.metadata.name}").items), 20, "FailedScheduling")
    assert admin.core.read_namespaced_pod(pending.metadata.name, NS).spec.node_name is None


def test_node_class_selector_places_pods(kube):
    name = unique("big")
    kube.apps.create_namespaced_deployment(NS, deployment(name, replicas=2, node_class="highmem"))
    pods = wait_pods(kube, NS, name, 2)
    assert {p.spec.node_name for p in pods} == {"kwok-node-2"}


@pytest.mark.parametrize("namespace", ["kube-system", "default"])
def test_dockyard_identity_is_refused_outside_its_namespaces(kube, namespace):
    with pytest.raises(ApiException) as err:
        kube.core.list_namespaced_secret(namespace)
    assert err.value.status == 403
    with pytest.raises(ApiException) as err:
        kube.apps.create_namespaced_deployment(namespace, deployment(unique("x")))
    assert err.value.status == 403


def test_dockyard_identity_may_not_read_secrets_even_at_home(kube):
    with pytest.raises(ApiException) as err:
        kube.core.list_namespaced_secret(NS)
    assert err.value.status == 403
    with pytest.raises(ApiException) as err:  # the build pod mounts its Secrets; Dockyard never reads them
        kube.core.read_namespaced_secret("registry-credentials", "dockyard-builds")
    assert err.value.status == 403


def test_cluster_cli_reports_status(cluster, tmp_path):
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "cli", "cluster", "status"], cwd=root, capture_output=True,
                         text=True, env={**os.environ, "DOCKYARD_CLUSTER_DIR": str(cluster.root)}, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("running") == 5
