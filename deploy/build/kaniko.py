"""The build Job: Kaniko in the builds namespace, git context at the exact commit. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from deploy.build import gitrefs

BUILDS_NAMESPACE = "dockyard-builds"
GENERATED_DIR = "/dockyard"


@dataclass(frozen=True)
class BuildSpec:
    """One image to build."""

    build_id: str  # "<service>-<short sha>": the same for every retry of the same build
    service: str
    project: str  # GitLab path_with_namespace
    ref: str  # refs/heads/main or refs/tags/v1
    sha: str
    destination: str  # <registry>/<group>/<service>:<tag>
    cache_repo: str
    context: str = "."
    dockerfile: str = "Dockerfile"  # a path in the repository, or None-like when generated
    generated: bool = False


def job_name(build_id: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", f"build-{build_id}".lower())[:63].rstrip("-")


def git_context(gitlab_url: str, project: str, ref: str, sha: str) -> str:
    """Kaniko's git context: git://host/group/project.git#<ref>#<commit>, ref and commit checked.

    Kaniko splits the context on '#': it clones <ref>, then checks out <commit>. The ref stays
    (Kaniko clones by ref name, not by commit id) but may hold no '#', so the commit Kaniko
    checks out is always the one GitLab's status and the chat report name.
    """
    if problem := gitrefs.project_problem(project) or gitrefs.ref_problem(ref) or gitrefs.sha_problem(sha):
        raise ValueError(f"no git context for {project}: {problem}")
    host = urlparse(gitlab_url).netloc or gitlab_url
    return f"git://{host}/{project}.git#{ref}#{sha}"


def configmap(spec: BuildSpec, dockerfile: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": job_name(spec.build_id), "namespace": BUILDS_NAMESPACE,
                         "labels": {"app.kubernetes.io/managed-by": "dockyard", "dockyard.dev/build": spec.build_id}},
            "data": {"Dockerfile": dockerfile}}


def job(spec: BuildSpec, *, gitlab_url: str, image: str, registry_secret: str, git_secret: str,
        deadline_seconds: int = 1800) -> dict:
    """A Job whose one pod runs the Kaniko executor; credentials come from Secrets by name only."""
    name = job_name(spec.build_id)
    args = [f"--context={git_context(gitlab_url, spec.project, spec.ref, spec.sha)}",
            f"--destination={spec.destination}", "--cache=true", f"--cache-repo={spec.cache_repo}",
            "--snapshot-mode=redo", "--use-new-run"]
    if spec.context not in (".", ""):
        args.append(f"--context-sub-path={spec.context}")
    args.append(f"--dockerfile={GENERATED_DIR}/Dockerfile" if spec.generated else f"--dockerfile={spec.dockerfile}")
    mounts = [{"name": "registry", "mountPath": "/kaniko/.docker", "readOnly": True}]
    volumes: list[dict] = [{"name": "registry", "secret": {"secretName": registry_secret, "optional": True, "items": [
        {"key": ".dockerconfigjson", "path": "config.json"}]}}]
    if spec.generated:
        mounts.append({"name": "dockerfile", "mountPath": GENERATED_DIR, "readOnly": True})
        volumes.append({"name": "dockerfile", "configMap": {"name": name}})
    labels = {"app.kubernetes.io/managed-by": "dockyard", "dockyard.dev/build": spec.build_id,
              "dockyard.dev/service": spec.service}
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": BUILDS_NAMESPACE, "labels": labels,
                     "annotations": {"dockyard.dev/commit": spec.sha, "dockyard.dev/ref": spec.ref}},
        "spec": {
            "backoffLimit": 0, "activeDeadlineSeconds": deadline_seconds, "ttlSecondsAfterFinished": 86400,
            "template": {"metadata": {"labels": labels}, "spec": {
                "restartPolicy": "Never",
                # the build runs the repository's Dockerfile: it gets no Kubernetes API token to misuse
                "automountServiceAccountToken": False,
                "containers": [{
                    "name": "kaniko", "image": image, "args": args, "volumeMounts": mounts,
                    "env": [{"name": "GIT_USERNAME", "value": "oauth2"},
                            {"name": "GIT_PASSWORD", "valueFrom": {"secretKeyRef": {
                                "name": git_secret, "key": "token", "optional": True}}}],
                    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
                }],
                "volumes": volumes,
            }},
        },
    }
