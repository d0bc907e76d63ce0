"""Connections to the catalog's clusters, and whether each answers. The one place that maps a cluster name to an API.

A catalog without `clusters:` has one cluster, `default`, reached through KUBECONFIG, so every
caller can speak of clusters by name whether there is one or several.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from core.runtime import Runtime
from deploy.kube import Kube, connect
from rules.clusters_model import DEFAULT_CLUSTER

PROBE_TIMEOUT = 3.0  # seconds: an apiserver slower than this to say its version counts as unreachable


class ClusterUnreachable(RuntimeError):
    """A cluster's API did not answer; the message names the cluster and why."""


@lru_cache(maxsize=32)
def _from_kubeconfig(path: Path, context: str | None) -> Kube:
    return Kube(config.new_client_from_config(config_file=str(path), context=context))


@lru_cache(maxsize=1)
def _in_cluster() -> Kube:
    conf = client.Configuration()
    config.load_incluster_config(client_configuration=conf)
    return Kube(client.ApiClient(conf))


def kube_for(rt: Runtime, name: str) -> Kube:
    """The API of one cluster by its catalog name."""
    spec = rt.rules.catalog.clusters.get(name)
    if spec is None:
        if name != DEFAULT_CLUSTER or rt.rules.catalog.clusters:
            raise ClusterUnreachable(f"no cluster {name!r} in the catalog ({', '.join(rt.rules.catalog.cluster_names)})")
        if rt.settings.kubeconfig is None:
            raise ClusterUnreachable("KUBECONFIG is not set, so there is no cluster to talk to")
        return connect(rt.settings.kubeconfig)
    if spec.in_cluster:
        return _in_cluster()
    path = Path(spec.kubeconfig or "")
    if not path.is_absolute():
        path = rt.settings.rules_dir / path
    return _from_kubeconfig(path, spec.context)


def unreachable(kube: Kube, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why a cluster's API cannot be used right now, or None when it answers."""
    try:
        client.VersionApi(kube.api).get_code(_request_timeout=timeout)
    except ApiException as exc:
        return f"its API answered {exc.status} {exc.reason}"
    except (HTTPError, OSError) as exc:
        return f"its API does not answer ({type(exc).__name__})"
    return None


def check_all(rt: Runtime, names: list[str]) -> dict[str, str | None]:
    """Each named cluster's reason for being unreachable (None when it answers), asked in parallel."""
    def probe(name: str) -> str | None:
        try:
            return unreachable(kube_for(rt, name))
        except (ClusterUnreachable, OSError, config.ConfigException) as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        return dict(zip(names, pool.map(probe, names)))
