"""The Helm chart in deploy/helm/dockyard: rendered by the pinned helm, applied to the real apiserver.

Rendering checks what a platform team reads in the chart (the Procfile's commands, probes, credentials
from a Secret, the rules mounted where DOCKYARD_RULES_DIR points, RBAC exactly deploy/manifests/rbac.py's
table). The live tests `helm install` it as release `yard` in its own namespace, with its own ServiceAccount,
so the session's `dockyard` identity (tests/test_security_rbac.py) keeps exactly its grants; they see
every Deployment's pods scheduled and Ready under kwok, and act as the chart's ServiceAccount through the
kubeconfig the chart renders.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from pydantic import SecretStr

from core.config import Settings, from_env
from deploy.helm import rbac_file
from deploy.local import binaries
from deploy.local.services import wait_until
from deploy.manifests import rbac
from rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy" / "helm" / "dockyard"
RELEASE, NAMESPACE = "yard", "yard-system"  # not `dockyard` in dockyard-system: the session's identity stays as is
FULLNAME = "yard-dockyard"
PROCESSES = ("web", "worker", "notifier", "watcher", "scheduler")
SENTINEL_URL = "redis+sentinel://:pw@s1:26379,s2:26379,s3:26379/dockyard/0"
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Granted to every authenticated user by the cluster's defaults (system:basic-user), not by the chart.
EVERYONE = {("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
            ("authorization.k8s.io", "selfsubjectrulesreviews", "create"),
            ("authentication.k8s.io", "selfsubjectreviews", "create")}
# Settings fields whose environment variable is not the field's name in capitals.
ENV_NAMES = {"link_secret": "DOCKYARD_LINK_SECRET", "dingtalk_robots": "DINGTALK_ROBOT_WEBHOOK",
             "dingtalk_robot_secrets": "DINGTALK_ROBOT_SECRET", "wecom_robots": "WECOM_ROBOT_WEBHOOK",
             "feishu_robots": "FEISHU_ROBOT_WEBHOOK", "feishu_robot_secrets": "FEISHU_ROBOT_SECRET"}

Key = tuple[str, str, str]


@pytest.fixture(scope="module")
def helm() -> str:
    return str(binaries.ensure_helm())


def template(helm: str, *args: str, command: str = "template") -> subprocess.CompletedProcess:
    """`helm template` (or install) of the chart with the example rules and the given extra flags."""
    rules = [f"--set-file=rules.{name}={ROOT / 'rules' / f'{name}.yaml'}" for name in ("catalog", "routing", "policy")]
    return subprocess.run([helm, command, RELEASE, str(CHART), "-n", NAMESPACE, *rules, *args],
                          capture_output=True, text=True, timeout=120)


def render(helm: str, *args: str) -> list[dict]:
    # --set-json, as a Sentinel URL's commas need: helm applies every --set after every --set-json.
    proc = template(helm, '--set-json=redis.url="redis://redis:6379/0"', *args)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {f"{d['metadata'].get('namespace', '')}/{d['metadata']['name']}": d for d in docs if d["kind"] == kind}


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_of(deployment: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container(deployment)["env"]}


def catalog_namespaces() -> list[str]:
    catalog = load_rules(ROOT / "rules").catalog
    return sorted({env.namespace for svc in catalog.services.values() for env in svc.environments.values()})


def credential_env_names() -> set[str]:
    """Every environment variable core/config.py reads into a secret (SecretStr) setting."""
    names = set()
    for field, info in Settings.model_fields.items():
        if "SecretStr" in str(info.annotation):
            names.add(ENV_NAMES.get(field, field.upper()))
    return names


def test_the_chart_passes_helm_lint_strict_with_the_example_rules(helm):
    rules = [f"--set-file=rules.{name}={ROOT / 'rules' / f'{name}.yaml'}" for name in ("catalog", "routing", "policy")]
    proc = subprocess.run([helm, "lint", "--strict", str(CHART), '--set-json=redis.url="redis://redis:6379/0"',
                           *rules], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "0 chart(s) failed" in proc.stdout, proc.stdout + proc.stderr


def test_every_procfile_process_is_a_deployment_with_its_command(helm):
    procfile = {name.strip(): shlex.split(cmd) for name, _, cmd in
                (line.partition(":") for line in (ROOT / "Procfile").read_text().splitlines()) if cmd.strip()}
    deployments = of_kind(render(helm), "Deployment")
    assert set(procfile) == set(PROCESSES)
    assert set(deployments) == {f"{NAMESPACE}/{FULLNAME}-{p}" for p in PROCESSES}
    for process, command in procfile.items():
        deployment = deployments[f"{NAMESPACE}/{FULLNAME}-{process}"]
        assert container(deployment)["command"] == command, process
        assert deployment["spec"]["replicas"] >= 2, f"{process}: one replica is not highly available"
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == FULLNAME
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container(deployment)["resources"]["requests"] and container(deployment)["resources"]["limits"]
    pdbs = of_kind(render(helm), "PodDisruptionBudget")
    assert {p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for p in pdbs.values()} == \
        set(PROCESSES)


def test_web_is_probed_on_healthz_and_readyz_and_only_web_serves(helm):
    deployments = of_kind(render(helm), "Deployment")
    web = container(deployments[f"{NAMESPACE}/{FULLNAME}-web"])
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert env_of(deployments[f"{NAMESPACE}/{FULLNAME}-web"])["PORT"]["value"] == "8080"
    for process in PROCESSES[1:]:
        other = container(deployments[f"{NAMESPACE}/{FULLNAME}-{process}"])
        assert "livenessProbe" not in other and "ports" not in other, process


def test_every_credential_comes_from_the_secret_and_none_is_written_into_the_chart(helm):
    docs = render(helm, "--set=credentials.existingSecret=team-creds")
    wanted = credential_env_names()
    assert {"GITLAB_WEBHOOK_TOKEN", "SLACK_SIGNING_SECRET", "DINGTALK_APP_SECRET", "WECOM_SECRET",
            "FEISHU_APP_SECRET", "ALERTMANAGER_WEBHOOK_TOKEN", "DOCKYARD_LINK_SECRET"} <= wanted
    for name, deployment in of_kind(docs, "Deployment").items():
        env = env_of(deployment)
        for var in wanted:
            assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "team-creds", (name, var)
    assert not of_kind(docs, "Secret"), "the chart must reference credentials, never hold them"


def test_redis_is_any_dockyard_redis_url_or_a_secret_and_missing_is_refused(helm):
    for deployment in of_kind(render(helm, f"--set-json=redis.url={json.dumps(SENTINEL_URL)}"), "Deployment").values():
        assert env_of(deployment)["DOCKYARD_REDIS_URL"]["value"] == SENTINEL_URL
    docs = render(helm, '--set-json=redis.url=""', "--set=redis.existingSecret=redis-creds")
    for deployment in of_kind(docs, "Deployment").values():
        assert env_of(deployment)["DOCKYARD_REDIS_URL"]["valueFrom"]["secretKeyRef"] == \
            {"name": "redis-creds", "key": "DOCKYARD_REDIS_URL"}
    refused = template(helm)
    assert refused.returncode != 0 and "set redis.url" in refused.stderr


def test_the_rules_and_kubeconfig_the_pods_mount_load_as_dockyards_settings(helm, tmp_path):
    """What a pod sees at DOCKYARD_RULES_DIR and KUBECONFIG, written out and read by core/config.py."""
    docs = render(helm)
    maps = of_kind(docs, "ConfigMap")
    mounts = {m["name"]: m["mountPath"] for m in container(of_kind(docs, "Deployment")[
        f"{NAMESPACE}/{FULLNAME}-worker"])["volumeMounts"]}
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for name, text in maps[f"{NAMESPACE}/{FULLNAME}-rules"]["data"].items():
        (rules_dir / name).write_text(text)
        assert text == (ROOT / "rules" / name).read_text()
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(maps[f"{NAMESPACE}/{FULLNAME}-kubeconfig"]["data"]["config"])
    env = {e["name"]: e.get("value", "") for e in container(of_kind(docs, "Deployment")[
        f"{NAMESPACE}/{FULLNAME}-worker"])["env"] if "value" in e}
    assert env["DOCKYARD_RULES_DIR"] == mounts["rules"] and env["KUBECONFIG"] == mounts["kube"] + "/config"
    settings = from_env({**env, "DOCKYARD_RULES_DIR": str(rules_dir), "KUBECONFIG": str(kubeconfig)})
    assert settings.redis_url == "redis://redis:6379/0"
    assert load_rules(settings.rules_dir).catalog.services.keys() == load_rules(ROOT / "rules").catalog.services.keys()


def test_the_chart_grants_exactly_deploy_manifests_rbac(helm):
    assert json.loads(rbac_file.RBAC_FILE.read_text()) == json.loads(rbac_file.content()), \
        "deploy/helm/dockyard/files/rbac.json is stale: run .venv/bin/python -m deploy.helm.rbac_file"
    docs = render(helm)
    expected = rbac.render(catalog_namespaces())
    roles = {r["metadata"]["namespace"]: r["rules"] for r in of_kind(docs, "Role").values()}
    assert roles == {r["metadata"]["namespace"]: r["rules"] for r in expected if r["kind"] == "Role"}
    (cluster_role,) = of_kind(docs, "ClusterRole").values()
    assert cluster_role["rules"] == next(r["rules"] for r in expected if r["kind"] == "ClusterRole")
    subject = {"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}
    for binding in [*of_kind(docs, "RoleBinding").values(), *of_kind(docs, "ClusterRoleBinding").values()]:
        assert binding["subjects"] == [subject]
    assert set(of_kind(docs, "RoleBinding")) == {f"{ns}/{FULLNAME}" for ns in roles}
    # Namespaces listed by hand (rules from an existing ConfigMap) give the same Roles.
    listed = render(helm, "--set=rules.existingConfigMap=team-rules",
                    "--set-json=rbac.catalogNamespaces=" + json.dumps(catalog_namespaces()))
    assert {r["metadata"]["namespace"]: r["rules"] for r in of_kind(listed, "Role").values()} == roles


def test_the_ingress_exposes_webhooks_and_chat_but_not_metrics_and_the_servicemonitor_scrapes_them(helm):
    docs = render(helm, "--set=ingress.enabled=true", "--set=serviceMonitor.enabled=true")
    (ingress,) = of_kind(docs, "Ingress").values()
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert {"/webhooks", "/slack", "/dingtalk", "/wecom", "/feishu", "/actions"} == paths
    (monitor,) = of_kind(docs, "ServiceMonitor").values()
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert not of_kind(render(helm), "ServiceMonitor"), "the ServiceMonitor is optional (its CRD may be absent)"


# --- against the real apiserver --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(cluster, helm, tmp_path_factory) -> Iterator[list[dict]]:
    """The chart installed as admin with `helm install`, as the README tells a platform team; removed afterwards."""
    values = '--set-json=redis.url="redis://redis:6379/0"'
    rendered = template(helm, values)
    assert rendered.returncode == 0, rendered.stderr
    admin = f"--kubeconfig={cluster.admin_kubeconfig}"
    try:
        proc = template(helm, values, admin, "--create-namespace", command="install")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    finally:
        uninstall = subprocess.run([helm, "uninstall", RELEASE, "-n", NAMESPACE, admin], capture_output=True,
                                   text=True, timeout=120)
        cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false")
    # helm uninstall also removes the Roles it made in the catalog's namespaces: nothing stays granted.
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    assert not cluster.kubectl("get", "roles,rolebindings,clusterroles,clusterrolebindings", "-A", "-o", "name",
                               "-l", f"app.kubernetes.io/instance={RELEASE}").strip()


@pytest.fixture(scope="module")
def as_chart(cluster, installed, tmp_path_factory) -> client.ApiClient:
    """The chart's own kubeconfig, its token and CA files where a pod would have them, as the chart's identity."""
    here = tmp_path_factory.mktemp("serviceaccount")
    (here / "token").write_text(cluster.kubectl("create", "token", FULLNAME, "-n", NAMESPACE).strip())
    (here / "ca.crt").write_bytes((cluster.root / "pki" / "ca.crt").read_bytes())
    rendered = of_kind(installed, "ConfigMap")[f"{NAMESPACE}/{FULLNAME}-kubeconfig"]["data"]["config"]
    kubeconfig = here / "config"
    kubeconfig.write_text(rendered.replace(TOKEN_DIR, str(here)).replace("https://kubernetes.default.svc",
                                                                         cluster.server))
    return config.new_client_from_config(config_file=str(kubeconfig))


def test_every_deployments_pods_are_scheduled_and_ready(cluster, installed):
    admin = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    apps, core = client.AppsV1Api(admin), client.CoreV1Api(admin)

    def ready(process: str) -> bool:
        deployment = apps.read_namespaced_deployment(f"{FULLNAME}-{process}", NAMESPACE)
        pods = core.list_namespaced_pod(NAMESPACE, label_selector=f"app.kubernetes.io/component={process}").items
        return len(pods) == deployment.spec.replicas == (deployment.status.ready_replicas or 0) and all(
            pod.spec.node_name and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
            for pod in pods)

    for process in PROCESSES:
        wait_until(lambda: ready(process), 120, f"the chart's {process} pods")
    # With every pod Ready, a node drain may take one pod of each process at a time, never two.
    policy = client.PolicyV1Api(admin)
    wait_until(lambda: sorted((p.metadata.name, p.status.disruptions_allowed) for p in
                              policy.list_namespaced_pod_disruption_budget(NAMESPACE).items)
               == [(f"{FULLNAME}-{p}", 1) for p in sorted(PROCESSES)], 60, "the chart's PodDisruptionBudgets")


def _effective(api: client.ApiClient, namespace: str) -> set[Key]:
    review = client.AuthorizationV1Api(api).create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=namespace)))
    assert not review.status.incomplete
    return {(g, r, v) for rule in review.status.resource_rules
            for g in rule.api_groups for r in rule.resources for v in rule.verbs} - EVERYONE


def _table(grants: tuple[rbac.Grant, ...]) -> set[Key]:
    return {(g.group, g.resource, g.verb) for g in grants}


def test_as_the_charts_service_account_every_dockyard_call_is_allowed_and_nothing_more(as_chart):
    authz = client.AuthorizationV1Api(as_chart)
    everywhere = _table(rbac.CLUSTER_GRANTS)
    for ns in catalog_namespaces():
        assert _effective(as_chart, ns) == _table(rbac.CATALOG_GRANTS) | everywhere, ns
    assert _effective(as_chart, rbac.BUILDS_NAMESPACE) == _table(rbac.BUILD_GRANTS) | everywhere
    for ns in (NAMESPACE, rbac.SYSTEM_NAMESPACE, "kube-system", "default"):
        assert _effective(as_chart, ns) == everywhere, ns
    calls = [(ns, g) for ns in catalog_namespaces() for g in rbac.CATALOG_GRANTS]
    calls += [(rbac.BUILDS_NAMESPACE, g) for g in rbac.BUILD_GRANTS] + [(None, g) for g in rbac.CLUSTER_GRANTS]
    for ns, grant in calls:
        resource, _, sub = grant.resource.partition("/")
        review = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                namespace=ns, verb=grant.verb, group=grant.group, resource=resource, subresource=sub or None))))
        assert review.status.allowed, (ns, grant)
    # And a real call, the watcher's cluster health check: list nodes.
    assert client.CoreV1Api(as_chart).list_node().items


def test_as_the_charts_service_account_secrets_are_refused_even_in_its_own_namespace(cluster, as_chart):
    admin = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    client.CoreV1Api(admin).create_namespaced_secret(NAMESPACE, client.V1Secret(
        metadata=client.V1ObjectMeta(name="dockyard-credentials"), string_data={"GITLAB_WEBHOOK_TOKEN": "t0ken"}))
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(as_chart).read_namespaced_secret("dockyard-credentials", NAMESPACE)
    assert err.value.status == 403
    authz = client.AuthorizationV1Api(as_chart)
    for ns in [*rbac.namespaces_of(catalog_namespaces()), NAMESPACE, "kube-system", "default"]:
        for verb in ("get", "list", "watch"):
            review = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    namespace=ns, verb=verb, resource="secrets"))))
            assert review.status.allowed is False, (ns, verb)
