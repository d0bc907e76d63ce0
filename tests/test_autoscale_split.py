"""/autoscale on an environment split across clusters: each cluster's share of the range, and the words for it."""

from __future__ import annotations

import pytest

from bots import cluster_messages as say
from bots import commands as c
from bots.grammar import parse
from deploy.autoscaling import share, split_range
from jobs.approvals import describe
from rules.workload import Autoscale, Metric


@pytest.mark.parametrize("low, high, weights, expected", [
    (2, 10, {"east": 3, "west": 2}, {"east": (1, 6), "west": (1, 4)}),
    (5, 20, {"east": 3, "west": 2}, {"east": (3, 12), "west": (2, 8)}),
    (1, 1, {"east": 3, "west": 2}, {"east": (1, 1), "west": (1, 1)}),  # an HPA cannot hold zero
    (1, 3, {"east": 1, "west": 1, "north": 1}, {"east": (1, 1), "west": (1, 1), "north": (1, 1)}),
    (2, 2, {"east": 1, "west": 4}, {"east": (1, 1), "west": (2, 2)}),  # a max never falls below its min
    (4, 9, {"only": 1}, {"only": (4, 9)}),
])
def test_a_range_is_split_by_the_weights_and_every_cluster_keeps_one(low, high, weights, expected):
    got = split_range(low, high, weights)
    assert got == expected
    assert all(1 <= lo <= hi for lo, hi in got.values())
    assert sum(hi for _, hi in got.values()) == max(high, sum(lo for lo, _ in got.values()))


def test_the_catalogs_range_is_shared_with_its_metrics_and_cpu_target():
    spec = Autoscale(min=2, max=10, cpu=60, metrics=[Metric(type="pods", name="rps", target="100")])
    shares = share(spec, {"east": 3, "west": 2})
    assert {n: (s.min, s.max) for n, s in shares.items()} == {"east": (1, 6), "west": (1, 4)}
    assert all(s.cpu == 60 and s.metrics == spec.metrics for s in shares.values())
    assert share(spec, {"only": 1}) == {"only": spec}  # one cluster keeps the catalog's range as written
    assert share(None, {"east": 3, "west": 2}) == {"east": None, "west": None}


def test_autoscale_off_is_a_command_and_an_approver_reads_it():
    cmd = parse("/autoscale web off in prod")
    assert cmd == c.Autoscale("web", 0, 0, env="prod") and cmd.off
    assert not parse("/autoscale web 2-10").off
    assert describe(cmd) == "autoscale off"


def test_the_message_gives_each_clusters_share_and_says_when_the_minimum_grew():
    msg = say.autoscaled("web", "prod", 1, 10, "70% CPU", {"east": (1, 6), "west": (1, 4)}, "none")
    assert msg.title == "web (prod): autoscaling 1–10 replicas at 70% CPU on 2 clusters"
    assert msg.fields == (("east", "1–6"), ("west", "1–4"))
    assert "each cluster keeps at least 1 replica, so the minimum is 2 in all" in msg.lines
    plain = say.autoscaled("web", "prod", 2, 10, "70% CPU", {"east": (1, 6), "west": (1, 4)}, "none")
    assert not any("at least 1 replica" in line or "up to" in line for line in plain.lines)


def test_the_message_says_when_the_clusters_together_may_run_more_than_the_maximum_asked():
    ranges = split_range(1, 3, {"a": 5, "b": 1, "c": 1})  # every cluster keeps 1, so each max is at least 1
    assert sum(high for _, high in ranges.values()) == 4
    msg = say.autoscaled("web", "prod", 1, 3, "70% CPU", ranges, "none")
    assert "each cluster's maximum is at least its minimum, so up to 4 in all" in msg.lines
    zh = say.autoscaled("web", "prod", 1, 3, "70% CPU", ranges, "none", locale="zh-CN")
    assert "每个集群的最大值不低于其最小值，所以合计最多 4 个" in zh.lines


def test_a_refusal_names_the_cluster_and_what_became_of_the_others():
    back = say.autoscale_failed("web", "prod", "autoscale 2–10", {"west": "the API said 403 forbidden"},
                                {"east": "3–8"}, [])
    assert back.severity == "error" and back.title == "web (prod): autoscale 2–10 failed on west"
    assert back.lines == ("west failed: the API said 403 forbidden", "east: put back to 3–8")
    held = say.autoscale_failed("web", "prod", "autoscale off", {"west": "no"}, {}, ["east"], {})
    assert held.lines[-1] == "east: keeps the change (on_failure: hold)"
    zh = say.autoscale_failed("web", "prod", "autoscale 2–10", {"west": "no"}, {"east": "3–8"}, [], locale="zh-CN")
    assert "自动扩缩容 2–10" in zh.title and "autoscale" not in zh.title  # the change reads in the channel's words


def test_off_says_which_clusters_had_an_hpa_and_that_the_catalogs_comes_back():
    msg = say.autoscale_off("web", "prod", {"east": True, "west": False}, "2–10 at 80% CPU")
    assert msg.title == "web (prod): autoscaling off on 2 clusters"
    assert msg.fields == (("east", "HPA removed; the replicas stay where it left them"), ("west", "had no HPA"))
    assert msg.lines == ("the catalog says autoscale 2–10 at 80% CPU for prod: the next deploy applies it again; "
                         "remove autoscale: there to keep it off",)
    one = say.autoscale_off("web", "test", {"default": True}, None)
    assert one.title == "web (test): autoscaling off" and one.lines == (
        "HPA removed; the replicas stay where it left them",)


def test_status_on_a_split_environment_at_its_maximum_suggests_a_command_that_runs():
    from bots.status_messages import status_message
    from rules.models import Service

    service = Service.model_validate({"team": "storefront", "language": "python", "git": "shop/web",
                                      "environments": {"prod": {"namespace": "shop-prod", "replicas": 5}}})
    part = {"ready": 6, "desired": 6, "updated": 6, "image": "web:v2", "pods": [], "warnings": [],
            "autoscale": {"min": 1, "max": 6, "current": 6, "desired": 6}}
    other = {**part, "ready": 2, "desired": 2, "updated": 2, "autoscale": {"min": 1, "max": 4, "current": 2,
                                                                          "desired": 2}}
    message = status_message("web", service, {"prod": {"clusters": {"east": part, "west": other}}}, ["prod"])
    hint = next(line for line in message.lines if "at its maximum" in line)
    # the command takes the environment and the range of all its clusters (it shares it out again),
    # not "in prod on east" with east's own share
    assert hint.startswith("prod on east autoscale: 1–6") and "raise it with /autoscale web 2-<max> in prod or" in hint
    assert parse("/autoscale web 2-12 in prod") is not None
