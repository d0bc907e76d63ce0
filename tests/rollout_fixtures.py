"""A catalog with one service per router and short deadlines, and a chat helper over real workers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from bots.pipeline import ChatRequest, submit
from bots.console.sink import conversation_key
from core.config import Settings
from core.runtime import Runtime
from jobs.queues import QUEUES
from jobs.worker import DockyardSimpleWorker
from rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
TEST_SERVICES = {
    "roll": {"router": "replicas", "replicas": 3},
    "cnx": {"router": "nginx", "replicas": 2, "host": "cnx.example.com"},
    "cis": {"router": "istio", "replicas": 2},
    "cgw": {"router": "gateway", "replicas": 2},
    "crp": {"router": "replicas", "replicas": 4},
    "lockd": {"router": "nginx", "replicas": 1},
    "kill": {"router": "replicas", "replicas": 3},
    "unr": {"router": "replicas", "replicas": 3},
    "ops": {"router": "replicas", "replicas": 3},
    "appr": {"router": "replicas", "replicas": 1, "prod": True},
    "hoom": {"router": "replicas", "replicas": 2},
    "hep": {"router": "replicas", "replicas": 2},
    "hkill": {"router": "replicas", "replicas": 1},
    "htwo": {"router": "replicas", "replicas": 1},
    "hapi": {"router": "replicas", "replicas": 1},
    "hredis": {"router": "replicas", "replicas": 1},
    "slk": {"router": "replicas", "replicas": 2},
}


def write_rules(directory: Path) -> Path:
    """The example rules plus the test services, all in shop-test, with a 6 s progress deadline."""
    for name in ("routing.yaml", "policy.yaml"):
        shutil.copy(ROOT / "rules" / name, directory / name)
    catalog = yaml.safe_load((ROOT / "rules" / "catalog.yaml").read_text())
    for name, spec in TEST_SERVICES.items():
        entry = {"team": "storefront", "language": "node", "git": f"shop/{name}", "port": 3000,
                 "router": spec["router"], "environments": {"test": {
                     "namespace": "shop-test", "replicas": spec["replicas"], "resources": "0.5C1G",
                     "progress_deadline": 6}}}
        if "host" in spec:
            entry["host"] = spec["host"]
        if spec.get("prod"):
            entry["environments"]["prod"] = {"namespace": "shop-prod", "replicas": 1, "resources": "0.5C1G",
                                             "approval": "required", "progress_deadline": 6}
        catalog["services"][name] = entry
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return directory


def live_runtime(redis_url: str, rules_dir: Path, kubeconfig: Path, **extra) -> Runtime:
    settings = Settings(redis_url=redis_url, rules_dir=rules_dir, kubeconfig=kubeconfig, job_retries=1,
                        job_backoff=(0,), **extra)
    return Runtime(settings=settings, rules=load_rules(rules_dir))


class Chat:
    """Say something as a console user, run the workers, collect every reply of that conversation."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.count = 0

    def __call__(self, user: str, text: str, run: bool = True) -> list[dict]:
        self.count += 1
        conversation = f"conv-{self.count}"
        outcome = submit(self.rt, ChatRequest("console", user, text, {"sink": "console",
                                                                      "conversation": conversation}))
        if not outcome.accepted:
            return [{"text": outcome.message.title, "refused": True, "message": outcome.message.to_dict()}]
        if run:
            DockyardSimpleWorker(list(QUEUES), connection=self.rt.redis).work(burst=True)
        return [json.loads(r) for r in self.rt.redis.lrange(conversation_key(conversation), 0, -1)]


def feed(rt: Runtime) -> list[dict]:
    """Every console message, including those routed to channels rather than to a conversation."""
    from bots.console.sink import FEED

    return [json.loads(fields[b"payload"]) for _, fields in rt.redis.xrange(FEED)]
