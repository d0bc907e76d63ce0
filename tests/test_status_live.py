"""/status reads the cluster when one is configured, as Dockyard's own identity."""

from __future__ import annotations

import json

from bots.pipeline import ChatRequest, submit
from bots.console.sink import conversation_key
from core import runtime
from core.config import Settings
from core.runtime import Runtime
from tests.kubehelp import deployment, wait_pods


def test_status_shows_replicas_and_image_from_the_cluster(rt, work, cluster, kube):
    live = runtime.install(Runtime(settings=Settings(**{**rt.settings.model_dump(),
                                                        "kubeconfig": cluster.dockyard_kubeconfig}),
                                   rules=rt.rules))
    kube.apps.create_namespaced_deployment("pay-test", deployment("ledger", image="registry.local/pay/ledger:7",
                                                                  replicas=1))
    try:
        wait_pods(kube, "pay-test", "ledger", 1)
        submit(live, ChatRequest("console", "bob", "/status ledger", {"sink": "console", "conversation": "s"}))
        work()
        [reply] = [json.loads(r) for r in live.redis.lrange(conversation_key("s"), 0, -1)]
        assert "test: 1/1 ready, 1 updated, image registry.local/pay/ledger:7" in reply["text"]
        assert "prod: not deployed yet (no Deployment ledger in pay-prod)" in reply["text"]
    finally:
        kube.apps.delete_namespaced_deployment("ledger", "pay-test")
