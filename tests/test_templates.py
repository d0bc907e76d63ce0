"""Generated Dockerfiles and the build Job: golden files (UPDATE_GOLDEN=1 rewrites them), a real Dockerfile parser."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from deploy.build import kaniko, templates
from rules.models import Build, Environment, Service

GOLDEN = Path(__file__).resolve().parent / "golden"


def service(language: str, **build) -> Service:
    return Service(team="t", language=language, git="g/x", port=8080, health_path="/healthz",
                   environments={"test": Environment(namespace="t")}, build=Build(**build))


@pytest.mark.parametrize("language", sorted(templates.TEMPLATES))
def test_each_template_matches_its_golden_file_and_parses(language, tmp_path):
    text = templates.dockerfile(service(language))
    path = GOLDEN / f"dockerfile-{language}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.read_text() == text
    parser = DockerfileParser(path=str(tmp_path / "Dockerfile"))
    parser.content = text
    instructions = [i["instruction"] for i in parser.structure if i["instruction"] != "COMMENT"]
    assert instructions[0] == "FROM"
    assert [i["value"] for i in parser.structure if i["instruction"] == "USER"] == ["10001"]  # never root
    assert [i["value"] for i in parser.structure if i["instruction"] == "EXPOSE"] == ["8080"]
    assert parser.structure[-1]["instruction"] == "CMD"
    assert "HEALTH_PATH=/healthz" in [i["value"] for i in parser.structure if i["instruction"] == "ENV"][-1]


@pytest.mark.parametrize("language,manifest,dependency_step", [
    ("java-maven", "pom.xml", "dependency:go-offline"), ("java-gradle", "build.gradle", "dependencies"),
    ("go", "go.mod", "go mod download"), ("python", "requirements.txt", "pip install"),
    ("node", "package.json", "npm ci"), ("php", "composer.json", "composer install"),
    ("static", "package.json", "npm ci"),
])
def test_dependencies_are_their_own_cached_layer(language, manifest, dependency_step):
    lines = templates.dockerfile(service(language)).splitlines()
    copy_manifest = next(i for i, l in enumerate(lines) if l.startswith("COPY") and manifest in l)
    install = next(i for i, l in enumerate(lines) if l.startswith("RUN") and dependency_step in l)
    copy_source = next(i for i, l in enumerate(lines) if l.startswith("COPY") and (" . ." in l or "src ./src" in l))
    assert copy_manifest < install < copy_source  # a source change keeps the dependency layer


def test_catalog_overrides_build_artifact_and_start():
    text = templates.dockerfile(service("java-maven", command="mvn -B package -Pprod", artifact="app/target/x.jar",
                                        start="java -Xmx512m -jar /app/app.jar"))
    assert "RUN mvn -B package -Pprod" in text
    assert "COPY --from=build /src/app/target/x.jar /app/app.jar" in text
    assert 'CMD ["java", "-Xmx512m", "-jar", "/app/app.jar"]' in text


def test_build_job_matches_its_golden_file():
    spec = kaniko.BuildSpec(build_id="web-aaaaaaaa", service="web", project="shop/web", ref="refs/heads/main",
                            sha="a" * 40, destination="registry.local/shop/web:20261122101500-alice",
                            cache_repo="registry.local/shop/cache", generated=True)
    job = kaniko.job(spec, gitlab_url="https://gitlab.example.com", image="registry.local/kaniko/executor:v1",
                     registry_secret="dockyard-registry", git_secret="dockyard-git")
    text = yaml.safe_dump(json.loads(json.dumps(job)), sort_keys=True)  # a plain copy: no YAML anchors
    path = GOLDEN / "build-job-web.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.read_text() == text
    assert job["spec"]["template"]["spec"]["automountServiceAccountToken"] is False  # the build gets no API token


@pytest.mark.parametrize("ref,sha", [
    (f"refs/heads/main#{'b' * 40}", "a" * 40), ("refs/heads/main", "a" * 40 + "#refs/heads/x"),
    ("refs/heads/a..b", "a" * 40), ("refs/heads/main", "A" * 40),
])
def test_build_job_refuses_a_context_a_string_could_redirect(ref, sha):
    spec = kaniko.BuildSpec(build_id="web-x", service="web", project="shop/web", ref=ref, sha=sha,
                            destination="registry.local/shop/web:x", cache_repo="registry.local/shop/cache")
    with pytest.raises(ValueError, match="no git context for shop/web"):
        kaniko.job(spec, gitlab_url="https://gitlab.example.com", image="i", registry_secret="r", git_secret="g")
