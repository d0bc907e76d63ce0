"""Alerts reach the team that owns what they are about, by the catalog, when they carry no team label."""

from __future__ import annotations

import pytest

from rules import ownership, routing


@pytest.mark.parametrize("labels,owner", [
    ({"service": "api"}, ("api", "")),
    ({"service": "ledger", "namespace": "pay-prod"}, ("ledger", "prod")),
    ({"service": "api-canary", "namespace": "shop-test"}, ("api", "test")),        # a track's own Service
    ({"namespace": "pay-prod", "pod": "ledger-7d9f8b6c5-x2x9k"}, ("ledger", "prod")),
    ({"namespace": "shop-prod", "pod": "api-canary-6c4f9d7b8-q7wzn"}, ("api", "prod")),
    ({"namespace": "shop-test", "pod": "web-preview-5d8f7c9b4-abcde"}, ("web", "test")),
    ({"namespace": "pay-test", "pod": "reconcile-29412345-k2x8p"}, ("reconcile", "test")),  # a CronJob's run
    ({"namespace": "pay-test", "job_name": "reconcile-29412345"}, ("reconcile", "test")),
    ({"namespace": "pay-prod", "cronjob": "reconcile"}, ("reconcile", "prod")),
    ({"namespace": "shop-prod", "deployment": "web-canary"}, ("web", "prod")),
    ({"namespace": "shop-prod", "container": "api"}, ("api", "prod")),
])
def test_the_owner_is_found_from_the_service_or_the_workload(example_rules, labels, owner):
    assert ownership.owner(example_rules.catalog, labels) == owner


@pytest.mark.parametrize("labels", [
    {"alertname": "NodeDown"},
    {"service": "billing"},                                                  # not in the catalog
    {"namespace": "pay-prod", "pod": "web-5d8f7c9b4-abcde"},                 # web runs elsewhere
    {"namespace": "shop-prod", "pod": "web-admin-5d8f7c9b4-abcde"},          # someone else's workload
    {"namespace": "shop-prod", "pod": "web-0"},                              # a StatefulSet's, not Dockyard's
    {"namespace": "pay-test", "pod": "ledger-29412345-k2x8p-extra"},
    {"pod": "ledger-7d9f8b6c5-x2x9k"},                                       # a pod name alone is ambiguous
])
def test_labels_naming_nothing_in_the_catalog_own_nothing(example_rules, labels):
    assert ownership.owner(example_rules.catalog, labels) is None
    # in a namespace only one team's services run in, that team still hears it; nothing else is added
    team = {"pay-prod": "payments", "pay-test": "payments", "shop-prod": "storefront"}.get(labels.get("namespace"))
    assert ownership.routing_labels(example_rules.catalog, labels) == {**labels, **({"team": team} if team else {})}


def test_an_alert_labelled_only_with_a_service_goes_to_its_teams_channel(example_rules):
    catalog = example_rules.catalog
    assert routing.channels_for(example_rules, {"service": "ledger"}) == ["console"]  # the default, before
    assert routing.channels_for(example_rules, ownership.routing_labels(catalog, {"service": "ledger"})) == \
        ["payments"]
    pod = {"namespace": "shop-prod", "pod": "api-7d9f8b6c5-x2x9k", "severity": "critical"}
    assert routing.channels_for(example_rules, ownership.routing_labels(catalog, pod)) == ["oncall", "storefront"]


def test_an_explicit_team_label_wins_and_shown_labels_are_untouched(example_rules):
    labels = {"service": "ledger", "team": "storefront", "namespace": "pay-prod"}
    enriched = ownership.routing_labels(example_rules.catalog, labels)
    assert enriched == {**labels, "env": "prod"}
    assert routing.channels_for(example_rules, enriched) == ["storefront"]
    assert labels == {"service": "ledger", "team": "storefront", "namespace": "pay-prod"}  # not changed in place


def test_a_namespace_only_alert_goes_to_the_one_team_running_there(example_rules):
    catalog = example_rules.catalog
    quota = {"alertname": "KubeQuotaAlmostFull", "namespace": "pay-prod"}
    assert ownership.owner(catalog, quota) is None  # no workload named
    assert ownership.routing_labels(catalog, quota) == {**quota, "team": "payments"}
    assert routing.channels_for(example_rules, ownership.routing_labels(catalog, quota)) == ["payments"]
    assert ownership.routing_labels(catalog, {"namespace": "kube-system"}) == {"namespace": "kube-system"}
