"""Kubernetes API clients from the configured kubeconfig: the one place that loads it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from kubernetes import client, config


@lru_cache(maxsize=4)
def api_client(kubeconfig: Path) -> client.ApiClient:
    """An ApiClient for a kubeconfig file (cached per process)."""
    return config.new_client_from_config(config_file=str(kubeconfig))


def apps(kubeconfig: Path) -> client.AppsV1Api:
    return client.AppsV1Api(api_client(kubeconfig))


def core(kubeconfig: Path) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(kubeconfig))
