"""Scheduled jobs (`kind: cronjob`) on the cluster: apply the CronJob with a new image. No chat here.

Nothing runs when it is applied: the controller-manager's CronJob controller starts a
Job at each scheduled time, from the template in force then. A run pod reads its
ConfigMaps when it starts, so unlike a Deployment there is no checksum to roll.
"""

from __future__ import annotations

from deploy import applying, render
from deploy.kube import Kube
from deploy.render import Target
from deploy.tracks import Change


def apply_cron_job(kube: Kube, target: Target, image: str, change: Change) -> dict:
    """Server-side apply the service's CronJob; a suspend set by hand (kubectl) is Dockyard's to leave alone."""
    return applying.apply(kube, render.cron_job(target, image, change_cause=change.cause, deployed_by=change.who,
                                                deployed_at=change.at))
