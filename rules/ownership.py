"""Who owns what an alert is about: the catalog service and team behind its labels. Pure.

Prometheus rules rarely carry a `team` label. They do carry what Kubernetes and kube-state-metrics
put there: `service`, or `namespace` with `pod`, `deployment`, `container`, `cronjob` or `job_name`.
Those name a workload Dockyard deployed, and the catalog says whose it is, so an alert about it can
reach the team's channel rather than the default one.
"""

from __future__ import annotations

import re

from rules.models import Catalog

TRACKS = ("canary", "preview")  # the Deployments beside the stable one (deploy/render.py workload_name)
# Deployment pods: <workload>-<pod-template-hash (≤10)>-<5 random>; Job pods: <job>-<5 random>, and a
# CronJob's jobs are <cronjob>-<scheduled minute>.
_DEPLOYMENT_POD = r"(?:-(?:canary|preview))?-[a-z0-9]{1,10}-[a-z0-9]{5}"
_CRONJOB_POD = r"-\d{1,12}-[a-z0-9]{5}"
_CRONJOB_RUN = r"-\d{1,12}"


def _in_namespace(catalog: Catalog, namespace: str) -> list[tuple[str, str]]:
    """(service, env) of every catalog environment that runs in `namespace`."""
    return [(name, env_name) for name, svc in catalog.services.items()
            for env_name, env in svc.environments.items() if env.namespace == namespace]


def _workloads(name: str) -> set[str]:
    return {name, *(f"{name}-{track}" for track in TRACKS)}


def _matches(catalog: Catalog, service: str, labels: dict[str, str]) -> bool:
    """Does any of the alert's workload labels name this service's workloads?"""
    cron = catalog.services[service].kind == "cronjob"
    pod, escaped = labels.get("pod", ""), re.escape(service)
    if pod and (pod in _workloads(service) or re.fullmatch(escaped + (_CRONJOB_POD if cron else _DEPLOYMENT_POD), pod)):
        return True
    if labels.get("deployment") in _workloads(service) or labels.get("cronjob") == service:
        return True
    if cron and re.fullmatch(escaped + _CRONJOB_RUN, labels.get("job_name", "")):
        return True
    return labels.get("container") == service  # Dockyard names a service's container after it


def owner(catalog: Catalog, labels: dict[str, str]) -> tuple[str, str] | None:
    """(service, env or "") the labels are about, or None when the catalog owns nothing they name.

    `service` naming a catalog service (or one of its track Services, api-canary) wins; else the
    environment whose namespace is `namespace` and whose workload the pod, deployment, container,
    cronjob or job_name label names. Where two services fit, the longer name is the closer match.
    """
    namespace = labels.get("namespace", "")
    named = labels.get("service", "")
    if named not in catalog.services:  # a track's own Service (api-canary) is still api's
        named = next((s for s in catalog.services if named in _workloads(s)), named)
    if named in catalog.services:
        env = next((e for s, e in _in_namespace(catalog, namespace) if s == named), "")
        return named, env
    fits = [(s, e) for s, e in _in_namespace(catalog, namespace) if _matches(catalog, s, labels)]
    return max(fits, key=lambda se: len(se[0]), default=None)


def routing_labels(catalog: Catalog, labels: dict[str, str]) -> dict[str, str]:
    """The labels to route by: the alert's own, plus the owning `team`, `service` and `env` it lacks.

    Labels the alert has always win (an explicit team label routes where it says); the labels shown
    in chat stay the alert's own.
    """
    found = owner(catalog, labels)
    if found is None:
        # A namespace-wide alert (a quota, a PVC) names no workload: it is the team's whose services
        # are the only ones there.
        teams = {catalog.services[s].team for s, _ in _in_namespace(catalog, labels.get("namespace", ""))}
        return {"team": teams.pop(), **labels} if len(teams) == 1 else dict(labels)
    service, env = found
    derived = {"team": catalog.services[service].team, "service": service, **({"env": env} if env else {})}
    return {**derived, **labels}
