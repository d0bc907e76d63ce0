"""Changes to one environment that spans several clusters: all clusters at once, one message, all or none.

Each cluster gets its share of the replicas and changes at the same time, through its own router.
The message shows every cluster's progress and the total. When a rolling update fails on one
cluster, the catalog's `on_failure` says what the others do: `rollback` (the default) puts every
cluster back on its previous revision, `hold` undoes only the failed cluster. A canary or preview
that fails on one cluster is removed from all of them, so traffic is never split differently
between clusters. Callers hold the environment's one rollout lock (per service and environment).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from kubernetes.client.exceptions import ApiException

from bots import cluster_messages as say
from bots.i18n import DEFAULT_LOCALE
from bots.message import Message
from core import runtime
from core.errors import PermanentError
from deploy import api_errors, autoscaling, fetching, render, tracks
from deploy.fanout import Outcome, Place, each
from deploy.routers import Split, router_for
from jobs import promotion
from jobs.progress import Progress
from jobs.rollout_base import locale_of
from rules.clusters_model import split as split_replicas
from rules.workload import Autoscale

Finish = Callable[[Message], None]
T = TypeVar("T")


class _Progress:
    """One message for every cluster's progress: worker threads report into it in turn."""

    def __init__(self, where: list[Place], what: str, progress: Progress):
        self.service, self.env, self.what, self.progress = where[0].target.name, where[0].target.env_name, what, progress
        self.locale = locale_of(progress.reply_to)  # the asking channel's language, for every message of the change
        self.states = {p.cluster: {"desired": p.target.env.replicas, "updated": 0, "ready": 0} for p in where}
        self.lock = threading.Lock()

    def wait(self, place: Place, track: str = "stable") -> dict:
        def report(summary: dict) -> None:
            with self.lock:
                self.states[place.cluster] = summary
                self.progress.show(say.progress(self.service, self.env, self.what, dict(self.states), self.locale))

        return tracks.wait_rollout(place.kube, place.target, track, report)


def _failures(outcomes: list[Outcome]) -> dict[str, tuple[str, list[str]]]:
    out = {}
    for o in outcomes:
        if isinstance(o.error, tracks.RolloutFailed):
            out[o.cluster] = (o.error.reason, o.error.details)
        elif isinstance(o.error, PermanentError):  # already in the user's words
            out[o.cluster] = (str(o.error), [])
        elif isinstance(o.error, ApiException):
            out[o.cluster] = (f"the API said {api_errors.message(o.error)}", [])
        elif o.error is not None:
            out[o.cluster] = (f"{type(o.error).__name__}: {o.error}", [])
    return out


def rolling(where: list[Place], image: str, change: tracks.Change, what: str, progress: Progress,
            finish: Finish) -> None:
    """Roll `image` out on every place; report once, in one message, whatever happens on each cluster."""
    service, env = where[0].target.name, where[0].target.env_name
    started, shown = time.monotonic(), _Progress(where, what, progress)
    before = {o.cluster: o.value or [] for o in each(where, lambda p: fetching.history(
        p.kube, p.target.namespace, p.target.name))}

    def roll(place: Place) -> dict:
        router = router_for(place.target.service.router)
        tracks.apply_track(place.kube, place.target, image, change)
        tracks.apply_split(place.kube, place.target, router, tracks.live_split(place.kube, place.target))
        return shown.wait(place)

    outcomes = each(where, roll)
    failures = _failures(outcomes)
    if not failures:
        promotion.passed(service, env, image)
        finish(say.done(service, env, what, {o.cluster: o.value for o in outcomes}, time.monotonic() - started,
                        shown.locale))
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
    finish(say.failed(service, env, what, failures, undone, held, shown.locale))


def canary(where: list[Place], image: str | None, weight: int, change: tracks.Change, progress: Progress,
           finish: Finish) -> bool:
    """The canary at `weight`% on every cluster, each through its own router; removed from all if one fails."""
    service, env = where[0].target.name, where[0].target.env_name
    first = where[0]
    live = fetching.read_deployment(first.kube, first.target.namespace, render.workload_name(service, "canary"))
    image = image or (fetching.image_of(live) if live else None)
    if image is None:
        raise PermanentError(f"no canary of {service} is live: say which image, /deploy {service} <tag> canary {weight}%")
    what = f"canary {weight}% of {render.version_of(image)}"
    started, shown = time.monotonic(), _Progress(where, what, progress)
    splits = {p.cluster: tracks.live_split(p.kube, p.target) for p in where}

    def step(place: Place) -> str:
        router, target = router_for(place.target.service.router), place.target
        new = Split(weight=weight, preview=splits[place.cluster].preview)
        router.check(new)
        stable = tracks.stable_replicas(place.kube, target)
        current = fetching.read_deployment(place.kube, target.namespace, render.workload_name(service, "canary"))
        tracks.apply_track(place.kube, target, image, change, track="canary",
                           replicas=tracks.track_replicas(router, stable, weight),
                           annotations={tracks.WEIGHT: str(weight)})
        if current is None or fetching.image_of(current) != image:  # new pods are ready before they get traffic
            shown.wait(place, "canary")
        tracks.apply_split(place.kube, target, router, new)
        return router.describe(new, stable)

    def undo(place: Place) -> None:
        tracks.remove_track(place.kube, place.target, "canary")
        tracks.apply_split(place.kube, place.target, router_for(place.target.service.router),
                           Split(weight=0, preview=splits[place.cluster].preview))

    return _everywhere(where, what, step, undo, started, finish, say.canary_buttons(service, env, shown.locale),
                       "the canary was removed from every cluster; stable is untouched", shown.locale)


def preview(where: list[Place], image: str, change: tracks.Change, progress: Progress, finish: Finish) -> bool:
    """One preview pod on every cluster, reached with the preview header there."""
    what = f"preview of {render.version_of(image)}"
    started, shown = time.monotonic(), _Progress(where, what, progress)

    def step(place: Place) -> str:
        router = router_for(place.target.service.router)
        split = Split(weight=tracks.live_split(place.kube, place.target).weight, preview=True)
        router.check(split)
        tracks.apply_track(place.kube, place.target, image, change, track="preview", replicas=1)
        shown.wait(place, "preview")
        tracks.apply_split(place.kube, place.target, router, split)
        return router.describe(split, 0)

    def undo(place: Place) -> None:
        tracks.remove_track(place.kube, place.target, "preview")

    service, env = where[0].target.name, where[0].target.env_name
    return _everywhere(where, what, step, undo, started, finish, say.canary_buttons(service, env, shown.locale),
                       "the preview was removed from every cluster", shown.locale)


def control(where: list[Place], step_name: str, who: str, when: str, progress: Progress, finish: Finish) -> bool:
    """Promote or abort the canary/preview on every cluster; True when nothing is left live."""
    service, env = where[0].target.name, where[0].target.env_name
    splits = {p.cluster: tracks.live_split(p.kube, p.target) for p in where}
    if not any(s.weight or s.preview for s in splits.values()):
        raise PermanentError(f"{service} ({env}) has no live canary or preview to {step_name}")
    what = "abort" if step_name == "abort" else "promote to stable"
    started, shown = time.monotonic(), _Progress(where, what, progress)
    images: dict[str, str] = {}

    def step(place: Place) -> str:
        split, router = splits[place.cluster], router_for(place.target.service.router)
        remaining = Split()
        if step_name == "promote" and (split.weight or split.preview):
            track = "canary" if split.weight else "preview"
            dep = fetching.read_deployment(place.kube, place.target.namespace, render.workload_name(service, track))
            images[place.cluster] = fetching.image_of(dep)
            tracks.apply_track(place.kube, place.target, images[place.cluster],
                               tracks.Change(who, f"{who}: promote {track} to stable", when))
            shown.wait(place)
            remaining = Split(weight=0, preview=split.preview and track == "canary")
        tracks.apply_split(place.kube, place.target, router, remaining)
        for track in ("canary", "preview"):
            if track == "canary" or not remaining.preview:
                tracks.remove_track(place.kube, place.target, track)
        return router.describe(remaining, tracks.stable_replicas(place.kube, place.target))

    done = _everywhere(where, what, step, None, started, finish, (),
                       f"the canary still takes its traffic where it failed; /deploy {service} abort removes it",
                       shown.locale)
    if done and step_name == "promote":
        for image in set(images.values()):
            promotion.passed(service, env, image)
    return done


def set_image(where: list[Place], image: str, what: str, change: tracks.Change, progress: Progress,
              finish: Finish) -> None:
    """Every cluster's stable track to one image (a rollback to a named revision), waiting for each."""
    started, shown = time.monotonic(), _Progress(where, what, progress)

    def step(place: Place) -> str:
        tracks.apply_track(place.kube, place.target, image, change)
        summary = shown.wait(place)
        return f"{summary['ready']}/{summary['desired']} ready"

    _everywhere(where, what, step, None, started, finish, (), "check /status and /events", shown.locale)


def scale(where: list[Place], replicas: int, progress: Progress, finish: Finish) -> None:
    """/scale across clusters: the new total split by the environment's weights."""
    service, env = where[0].target.name, where[0].target.env_name
    shares = split_replicas(replicas, runtime.get().rules.catalog.weights(service, env))
    what = f"scale to {replicas} ({', '.join(f'{n} on {c}' for c, n in shares.items())})"
    started, shown = time.monotonic(), _Progress(where, what, progress)

    def step(place: Place) -> str:
        if tracks.hpa_exists(place.kube, place.target):
            raise PermanentError(f"{service} ({env}) is autoscaled on {place.cluster}: use /autoscale instead")
        place.kube.apps.patch_namespaced_deployment_scale(service, place.target.namespace,
                                                          {"spec": {"replicas": shares[place.cluster]}})
        summary = shown.wait(place)
        return f"{summary['ready']}/{summary['desired']} ready"

    _everywhere(where, what, step, None, started, finish, (), "check /status and /events", shown.locale)


def autoscale(where: list[Place], low: int, high: int, goals: Autoscale, who: str, at: str, finish: Finish,
              locale: str) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """/autoscale across clusters: each cluster's HPA gets its share of the range.

    Returns the shares and the clusters that hold the new range now (all of them, or after a refusal
    those that kept it: held, or not put back), for the audit."""
    service, env = where[0].target.name, where[0].target.env_name
    rules = runtime.get().rules
    ranges = autoscaling.split_range(low, high, rules.catalog.weights(service, env))

    def change(place: Place) -> None:
        if fetching.read_deployment(place.kube, place.target.namespace, service) is None:
            raise PermanentError(f"{service} ({env}) is not deployed on {place.cluster} yet: deploy it first")
        autoscaling.set_by_chat(place.kube, place.target, *ranges[place.cluster], goals.cpu, who, at)

    done, kept = _hpas(where, f"autoscale {low}–{high}", change, finish, locale)
    if done is None:
        return ranges, kept
    catalog = rules.catalog.services[service].environments[env].autoscale
    finish(say.autoscaled(service, env, low, high, goals.goals(), ranges,
                          catalog.describe() if catalog else "none", locale))
    return ranges, kept


def autoscale_off(where: list[Place], finish: Finish, locale: str) -> list[str]:
    """/autoscale off on every cluster (the replicas stay); the clusters whose HPA is gone now (for the audit)."""
    service, env = where[0].target.name, where[0].target.env_name
    removed, kept = _hpas(where, "autoscale off", lambda p: autoscaling.remove_by_chat(p.kube, p.target), finish,
                          locale)
    if removed is None:
        return kept
    catalog = runtime.get().rules.catalog.services[service].environments[env].autoscale
    finish(say.autoscale_off(service, env, removed, catalog.describe() if catalog else None, locale))
    return kept


def _hpas(where: list[Place], what: str, change: Callable[[Place], T], finish: Finish,
          locale: str) -> tuple[dict[str, T] | None, list[str]]:
    """Change the HPA on every cluster at once; if one refuses, put the others back as `on_failure` says.

    Returns what each cluster's change returned (None once a failure has been reported) and the
    clusters that carry the change now: every one, or after a failure those held or not put back."""
    service, env = where[0].target.name, where[0].target.env_name
    before: dict[str, dict | None] = {}

    def step(place: Place) -> T:
        before[place.cluster] = autoscaling.snapshot(place.kube, place.target)
        return change(place)

    outcomes = each(where, step)
    failures = {cluster: reason for cluster, (reason, _) in _failures(outcomes).items()}
    if not failures:
        return {o.cluster: o.value for o in outcomes}, [p.cluster for p in where]  # type: ignore[misc]
    refused = [o.error for o in outcomes if isinstance(o.error, PermanentError)]
    if len(refused) == len(where):
        raise refused[0]  # every cluster said the same no: the chat shows it like a single cluster's
    changed = [p for p in where if p.cluster not in failures]
    rollback = runtime.get().rules.catalog.on_failure(env) == "rollback"
    undone: dict[str, str] = {}
    stuck: dict[str, str] = {}  # put back but that failed too: the message says so, with why
    if rollback and changed:
        outcomes = each(changed, lambda p: autoscaling.restore(p.kube, p.target, before[p.cluster]))
        stuck = {cluster: reason for cluster, (reason, _) in _failures(outcomes).items()}
        undone = {o.cluster: autoscaling.describe(before[o.cluster]) for o in outcomes if o.cluster not in stuck}
    held = [] if rollback else [p.cluster for p in changed]
    finish(say.autoscale_failed(service, env, what, failures, undone, held, stuck, locale))
    return None, held + sorted(stuck)


def restart(where: list[Place], when: str | None, progress: Progress, finish: Finish) -> None:
    """A rolling restart on every cluster at once (`when` None: already asked for, only wait)."""
    started, shown = time.monotonic(), _Progress(where, "restart", progress)
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": when}}}}}

    def step(place: Place) -> str:
        if when is not None:
            place.kube.apps.patch_namespaced_deployment(place.target.name, place.target.namespace, patch)
        summary = shown.wait(place)
        return f"{summary['ready']}/{summary['desired']} ready"

    _everywhere(where, "restart", step, None, started, finish, (), "check /status and /events", shown.locale)


def _everywhere(where: list[Place], what: str, step: Callable[[Place], str], undo: Callable[[Place], None] | None,
                started: float, finish: Finish, buttons: tuple, after: str, locale: str = DEFAULT_LOCALE) -> bool:
    """Run one step on every cluster; on any failure undo it everywhere (when it can be); report once."""
    service, env = where[0].target.name, where[0].target.env_name
    outcomes = each(where, step)
    refused = [o.error for o in outcomes if isinstance(o.error, PermanentError)]
    failures = _failures(outcomes)
    if failures and undo is not None:
        each(where, undo)
    if refused and len(refused) == len(where):
        raise refused[0]  # every cluster said the same no: the chat shows it like a single cluster's
    if failures:
        finish(say.each_failed(service, env, what, failures, after, locale))
        return False
    finish(say.each_done(service, env, what, {o.cluster: str(o.value) for o in outcomes}, time.monotonic() - started,
                         buttons, locale))
    return True
