"""Fixtures over real services: redis-server, RQ workers, the Flask app."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis

from core import runtime
from core.config import Settings
from core.runtime import Runtime
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from rules import load_rules
from deploy.local.services import RedisServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis(redis_server) -> Redis:
    conn = Redis.from_url(redis_server.url)
    conn.flushdb()
    return conn


@pytest.fixture(scope="session")
def example_rules():
    return load_rules(ROOT / "rules")


@pytest.fixture
def settings(redis_server) -> Settings:
    return Settings(redis_url=redis_server.url, rules_dir=ROOT / "rules", job_retries=2, job_backoff=(0,))


@pytest.fixture
def rt(settings, example_rules, redis) -> Runtime:
    previous = runtime._current
    installed = runtime.install(Runtime(settings=settings, rules=example_rules))
    yield installed
    runtime._current = previous


@pytest.fixture
def work(rt):
    """Run a real RQ worker in burst mode over every queue, in this process."""
    def run() -> DockyardSimpleWorker:
        worker = DockyardSimpleWorker(list(QUEUES), connection=rt.redis)
        worker.work(burst=True, with_scheduler=False)
        return worker
    return run


@pytest.fixture
def app(rt):
    from handlers.app import create_app

    application = create_app(rt=rt)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, example_rules):
    """A real control plane (etcd, apiserver, controller-manager, scheduler, kwok) for the session."""
    from deploy.local.cluster import LocalCluster

    namespaces = sorted({env.namespace for svc in example_rules.catalog.services.values()
                         for env in svc.environments.values()})
    local = LocalCluster(root=tmp_path_factory.mktemp("cluster"), namespaces=namespaces).up()
    yield local
    local.down()


@pytest.fixture(scope="session")
def kube(cluster):
    """Kubernetes API clients as Dockyard's own least-privileged identity."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(cluster.dockyard_kubeconfig))
    return type("Kube", (), {"apps": client.AppsV1Api(api), "core": client.CoreV1Api(api),
                             "batch": client.BatchV1Api(api), "discovery": client.DiscoveryV1Api(api),
                             "api": api})()
