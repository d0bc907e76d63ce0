"""Kubernetes API clients from the configured kubeconfig: the one place that loads it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from kubernetes import client, config
from kubernetes.dynamic import DynamicClient


@lru_cache(maxsize=4)
def api_client(kubeconfig: Path) -> client.ApiClient:
    """An ApiClient for a kubeconfig file (cached per process)."""
    return config.new_client_from_config(config_file=str(kubeconfig))


@dataclass(frozen=True)
class Kube:
    """The typed and dynamic APIs Dockyard uses, over one connection."""

    api: client.ApiClient

    @cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @cached_property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.api)

    @cached_property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    @cached_property
    def dynamic(self) -> DynamicClient:
        return DynamicClient(self.api)


@lru_cache(maxsize=4)
def connect(kubeconfig: Path) -> Kube:
    return Kube(api_client(kubeconfig))

