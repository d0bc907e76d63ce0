"""The catalog's clusters: names, how each is reached, and how an environment's replicas are split across them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from rules import RulesError, load_rules
from rules.clusters_model import split

EXAMPLE = Path(__file__).resolve().parent.parent / "rules"


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _edit(rules_dir: Path, change) -> None:
    path = rules_dir / "catalog.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _two_clusters(data: dict) -> None:
    data["clusters"] = {"east": {"kubeconfig": "east.kubeconfig", "labels": {"region": "cn-east"}},
                        "west": {"kubeconfig": "/etc/dockyard/west.kubeconfig", "context": "west-admin"}}
    data["build_cluster"] = "east"
    data["environments"] = [{"name": "test", "cluster": "east"},
                            {"name": "prod", "approval": "required", "clusters": {"east": 3, "west": 2}}]


@pytest.mark.parametrize("replicas, weights, expected", [
    (5, {"east": 3, "west": 2}, {"east": 3, "west": 2}),
    (10, {"east": 3, "west": 2}, {"east": 6, "west": 4}),
    (5, {"a": 1, "b": 1}, {"a": 3, "b": 2}),  # the odd one goes to the cluster listed first
    (7, {"a": 1, "b": 1, "c": 1}, {"a": 3, "b": 2, "c": 2}),
    (1, {"east": 1, "west": 1}, {"east": 1, "west": 0}),
    (0, {"east": 3, "west": 2}, {"east": 0, "west": 0}),
])
def test_replicas_split_by_weight_and_always_add_up(replicas, weights, expected):
    assert split(replicas, weights) == expected
    assert sum(split(replicas, weights).values()) == replicas


def test_a_catalog_without_clusters_has_one_reached_through_kubeconfig(rules_dir):
    catalog = load_rules(rules_dir).catalog
    assert catalog.cluster_names == ["default"]
    assert catalog.placement("web", "prod") == {"default": catalog.services["web"].environments["prod"].replicas}
    assert catalog.builds_in == "default"


def test_an_environment_split_across_two_clusters(rules_dir):
    def change(data: dict) -> None:
        _two_clusters(data)
        data["services"]["web"]["environments"]["prod"]["replicas"] = 5

    _edit(rules_dir, change)
    catalog = load_rules(rules_dir).catalog
    assert catalog.placement("web", "prod") == {"east": 3, "west": 2}
    assert catalog.placement("web", "test") == {"east": catalog.services["web"].environments["test"].replicas}
    assert catalog.on_failure("prod") == "rollback"
    assert catalog.builds_in == "east"
    assert catalog.clusters["east"].labels == {"region": "cn-east"}


def test_a_service_may_place_its_own_environment(rules_dir):
    def change(data: dict) -> None:
        _two_clusters(data)
        data["services"]["web"]["environments"]["prod"].update(replicas=4, cluster="west")

    _edit(rules_dir, change)
    assert load_rules(rules_dir).catalog.placement("web", "prod") == {"west": 4}


@pytest.mark.parametrize("change, says", [
    (lambda d: d["environments"][1].update(clusters={"east": 3, "north": 2}),
     "environment prod names cluster 'north', which is not under clusters: (east, west)"),
    (lambda d: d["environments"][1].pop("clusters"),
     "environment prod names no cluster and the catalog has several: add `cluster: <name>`"),
    (lambda d: d.pop("build_cluster"), "say which runs image builds with `build_cluster: <name>`"),
    (lambda d: d["clusters"]["east"].update(in_cluster=True),
     "needs exactly one of `kubeconfig: <path>` (with an optional `context:`) or `in_cluster: true`"),
    (lambda d: d["environments"][1].update(clusters={"east": 0, "west": 2}), "a weight is a whole number from 1"),
    (lambda d: d["environments"][0].update(clusters={"east": 1}),
     "write `cluster: <name>` or `clusters: {<name>: weight, ...}`, not both"),
])
def test_a_wrong_cluster_setting_is_refused_with_what_to_write(rules_dir, change, says):
    def edit(data: dict) -> None:
        _two_clusters(data)
        change(data)

    _edit(rules_dir, edit)
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir)
    assert says in str(err.value)
    assert str(err.value).startswith(str(rules_dir / "catalog.yaml") + ":")
