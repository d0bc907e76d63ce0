"""Write the chart's RBAC rules from deploy/manifests/rbac.py, so the chart grants exactly the table.

The chart must install without Python, so the rules travel as a file inside it
(files/rbac.json, read by templates/rbac.yaml); this module is the only writer.
tests/test_helm_chart.py fails when the file and the table differ. Rerun:

    .venv/bin/python -m deploy.helm.rbac_file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from deploy.build.kaniko import BUILDS_NAMESPACE
from deploy.manifests import rbac

RBAC_FILE = Path(__file__).resolve().parent / "dockyard" / "files" / "rbac.json"


def content() -> str:
    """The file's text: the catalog's, the builds namespace's and the cluster-wide rules, as rbac.render has them."""
    table = {
        "buildsNamespace": BUILDS_NAMESPACE,
        "catalog": rbac.rules(rbac.CATALOG_GRANTS),
        "builds": rbac.rules(rbac.BUILD_GRANTS),
        "cluster": rbac.rules(rbac.CLUSTER_GRANTS),
    }
    return json.dumps(table, indent=2) + "\n"


def main() -> int:
    RBAC_FILE.write_text(content())
    print(f"wrote {RBAC_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
