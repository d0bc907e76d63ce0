"""`./dockyard cluster up|down|status|env [--name NAME]`: the local control planes from the command line."""

from __future__ import annotations

import os
import sys

from core.config import from_env
from deploy.local import binaries
from deploy.local.cluster import ClusterError, LocalCluster, default_dir
from rules import load_rules


def catalog_namespaces() -> list[str]:
    """Namespaces the catalog names (DOCKYARD_RULES_DIR), for Dockyard's Roles."""
    rules = load_rules(from_env().rules_dir)
    return sorted({env.namespace for svc in rules.catalog.services.values() for env in svc.environments.values()})


def main(action: str, name: str | None = None) -> int:
    """Run one action on the local cluster, or on the named one (`--name east`)."""
    root = default_dir(name)
    label = f"local cluster {name!r}" if name else "local cluster"
    again = f"./dockyard cluster up{f' --name {name}' if name else ''}"
    if action == "up":
        cluster = LocalCluster(root=root, namespaces=catalog_namespaces())
        try:
            cluster.up()
        except (ClusterError, binaries.StepFailed) as exc:
            print(f"cluster up: {exc}" + (f" (./dockyard cluster down{f' --name {name}' if name else ''})"
                                           if cluster.running() else ""), file=sys.stderr)
            return 1
        print(f"{label} ready in {cluster.startup_seconds:.1f}s at {cluster.server}")
        print(f"  admin:    export KUBECONFIG={cluster.admin_kubeconfig}")
        print(f"  dockyard: export KUBECONFIG={cluster.dockyard_kubeconfig}")
        return 0
    if not (root / "state.json").exists():
        print(f"no {label} in {root}" + ("" if action == "down" else f"; start one with {again}"),
              file=sys.stderr if action != "down" else sys.stdout)
        return 0 if action == "down" else 1
    cluster = LocalCluster.load(root)
    if action == "down":
        cluster.down()
        (root / "state.json").unlink()
        print(f"{label} stopped")
    elif action == "status":
        info = cluster.status()
        for component, state in info["components"].items():
            print(f"{component:<24} {state}")
        print(f"server {info['server']}\nKUBECONFIG={info['dockyard_kubeconfig']}")
        return 0 if all(s == "running" for s in info["components"].values()) else 1
    elif action == "env":
        bin_dir = os.environ.get("DOCKYARD_K8S_BIN") or binaries.cache_dir(binaries.versions())
        print(f"export PATH={bin_dir}:$PATH  # kubectl at the cluster's version")
        print(f"export KUBECONFIG={cluster.dockyard_kubeconfig}  # Dockyard's own identity")
        print(f"# as the admin (to inject faults): kubectl --kubeconfig {cluster.admin_kubeconfig} ...")
    return 0
