"""A rolling update of one environment that spans several clusters: all at once, one message, all or none.

Each cluster gets its share of the replicas and rolls at the same time. The message shows every
cluster's progress and the total. When one cluster's rollout fails, the catalog's `on_failure`
says what the others do: `rollback` (the default) puts every cluster back on its previous
revision, `hold` undoes only the failed cluster and leaves the others on the new version.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bots import cluster_messages as say
from bots.message import Message
from core import runtime
from deploy import fetching, tracks
from deploy.fanout import Place, each
from deploy.routers import router_for
from jobs import promotion
from jobs.progress import Progress


def _failure(error: BaseException) -> tuple[str, list[str]]:
    if isinstance(error, tracks.RolloutFailed):
        return error.reason, error.details
    return f"{type(error).__name__}: {error}", []


def rolling(where: list[Place], image: str, change: tracks.Change, what: str, progress: Progress,
            finish: Callable[[Message], None]) -> None:
    """Roll `image` out on every place; report once, in one message, whatever happens on each cluster."""
    service, env = where[0].target.name, where[0].target.env_name
    started = time.monotonic()
    states = {p.cluster: {"desired": p.target.env.replicas, "updated": 0, "ready": 0} for p in where}
    shown = threading.Lock()  # one worker thread per cluster reports into the same message

    def report(cluster: str, summary: dict) -> None:
        with shown:
            states[cluster] = summary
            progress.show(say.progress(service, env, what, dict(states)))

    before = {o.cluster: o.value or [] for o in each(where, lambda p: fetching.history(
        p.kube, p.target.namespace, p.target.name))}

    def roll(place: Place) -> dict:
        router = router_for(place.target.service.router)
        tracks.apply_track(place.kube, place.target, image, change)
        tracks.apply_split(place.kube, place.target, router, tracks.live_split(place.kube, place.target))
        return tracks.wait_rollout(place.kube, place.target, "stable", lambda s: report(place.cluster, s))

    outcomes = each(where, roll)
    failures = {o.cluster: _failure(o.error) for o in outcomes if o.error is not None}
    if not failures:
        promotion.passed(service, env, image)
        finish(say.done(service, env, what, {o.cluster: o.value for o in outcomes}, time.monotonic() - started))
        return
    policy = runtime.get().rules.catalog.on_failure(env)
    undo = [p for p in where if policy == "rollback" or p.cluster in failures]
    undone: dict[str, str] = {}
    for place in undo:
        previous = [r for r in before[place.cluster] if r.image != image]
        if not previous:
            undone[place.cluster] = "nothing: it had no earlier revision"
            continue
        back = previous[-1]
        tracks.apply_track(place.kube, place.target, back.image, tracks.Change(
            change.who, f"automatic rollback to revision {back.number}: {what} failed on {', '.join(failures)}",
            change.at))
        undone[place.cluster] = f"revision {back.number} ({back.image})"
    held = [p.cluster for p in where if p not in undo]
    finish(say.failed(service, env, what, failures, undone, held))
