"""`./dockyard demo seed`: give the local run something to look at.

Deploys v1 of every catalog service to its test environment and records v2
as each service's newest image, as a finished build would. Only for the
embedded local cluster of `make run`; never point it at a real cluster.
"""

from __future__ import annotations

from core import runtime
from jobs import rollout
from state import images, locks

DEMO_USER = "demo-seed"


def seed() -> list[str]:
    rt = runtime.get()
    if rt.settings.kubeconfig is None:
        raise SystemExit("demo seed needs KUBECONFIG (the local cluster of make run)")
    done = []
    for name, service in rt.rules.catalog.services.items():
        if "test" not in service.environments:
            continue
        locks.clear(rt.redis, name, "test")  # left in Redis by an earlier run on an earlier cluster
        rollout.deploy(name, "test", "v1", "rolling", None, DEMO_USER, {"sink": "console"})
        images.record(rt.redis, name, "v2", source="demo seed")
        done.append(name)
    return done
