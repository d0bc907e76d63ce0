"""Rollout jobs: deploy (rolling, canary, preview), promote/abort, rollback (replicas: jobs/replicas.py).

Every job converges: killed at any line and run again, it applies the same
desired state (server-side apply), finds the same lock (keyed by its rollout
id) and edits the same chat message (keyed by its job id).
"""

from __future__ import annotations

import time

from bots import commands as c
from bots import rollout_messages as say
from bots.message import Message
from core import runtime
from core.errors import PermanentError
from deploy import fetching, render
from deploy import scheduled, tracks
from deploy.fanout import Place
from deploy.kube import Kube
from deploy.render import Target
from deploy.routers import Split, router_for
from state import images, locks
from jobs.progress import Progress
from jobs import promotion, rollout_clusters
from jobs.rollout_base import cluster_errors, finish, job_id, locale_of, lock, now, places, release

CANARY_LOCK_TTL = 24 * 3600  # a live canary holds the service until promote or abort


def _image(target: Target, tag: str | None) -> str | None:
    return f"{target.repository}:{tag}" if tag else None


def _rolling(kube: Kube, target: Target, image: str, who: str, reply_to: dict, what: str, cause: str) -> None:
    """Set the stable image and wait; past the progress deadline, go back to the previous revision."""
    locale = locale_of(reply_to)
    progress = Progress(reply_to, job_id())
    started = time.monotonic()
    before = fetching.history(kube, target.namespace, target.name)
    tracks.apply_track(kube, target, image, tracks.Change(who, cause, now()))
    tracks.apply_split(kube, target, router_for(target.service.router), tracks.live_split(kube, target))
    try:
        summary = tracks.wait_rollout(kube, target, "stable",
                                     lambda s: progress.show(say.progress(target.name, target.env_name, what, s,
                                                                          locale)))
    except tracks.RolloutFailed as failure:
        previous = [r for r in before if r.image != image]
        if not previous:
            finish(reply_to, say.failed(target.name, target.env_name, what, failure.reason, failure.details,
                                         "there is no earlier revision to go back to", locale=locale))
            return
        back = previous[-1]
        tracks.apply_track(kube, target, back.image,
                          tracks.Change(who, f"automatic rollback to revision {back.number}: {failure.reason}", now()))
        finish(reply_to, say.rolled_back(target.name, target.env_name, what, failure.reason, failure.details,
                                          f"revision {back.number} ({back.image})", locale=locale))
        return
    promotion.passed(target.name, target.env_name, image)
    finish(reply_to, say.done(target.name, target.env_name, what, summary, time.monotonic() - started, locale=locale))


def _canary(kube: Kube, target: Target, image: str | None, weight: int, who: str, reply_to: dict) -> None:
    locale = locale_of(reply_to)
    router = router_for(target.service.router)
    split = tracks.live_split(kube, target)
    canary = fetching.read_deployment(kube, target.namespace, render.workload_name(target.name, "canary"))
    current_image = fetching.image_of(canary) if canary else None
    image = image or current_image
    if image is None:
        raise PermanentError(f"no canary of {target.name} is live: say which image, "
                             f"/deploy {target.name} <tag> canary {weight}%")
    new = Split(weight=weight, preview=split.preview)
    router.check(new)
    started = time.monotonic()
    stable = tracks.stable_replicas(kube, target)
    change = tracks.Change(who, f"{who}: canary {weight}% of {render.version_of(image)}", now())
    tracks.apply_track(kube, target, image, change, track="canary",
                      replicas=tracks.track_replicas(router, stable, weight),
                      annotations={tracks.WEIGHT: str(weight)})
    what = f"canary {weight}% of {render.version_of(image)}"
    if image != current_image:  # new pods must be ready before they get traffic
        progress = Progress(reply_to, job_id())
        try:
            tracks.wait_rollout(kube, target, "canary",
                               lambda s: progress.show(say.progress(target.name, target.env_name, what, s,
                                                                          locale)))
        except tracks.RolloutFailed as failure:
            tracks.remove_track(kube, target, "canary")
            tracks.apply_split(kube, target, router, Split(weight=0, preview=split.preview))
            raise _Aborted(say.failed(target.name, target.env_name, what, failure.reason, failure.details,
                                      "the canary was removed; stable is untouched", locale=locale)) from None
    tracks.apply_split(kube, target, router, new)
    finish(reply_to, say.canary_live(target.name, target.env_name, image, router.describe(new, stable),
                                      time.monotonic() - started, locale=locale))


def _canary_live(kube: Kube, target: Target) -> bool:
    return fetching.read_deployment(kube, target.namespace, render.workload_name(target.name, "canary")) is not None


def _preview(kube: Kube, target: Target, image: str | None, who: str, reply_to: dict) -> None:
    locale = locale_of(reply_to)
    router = router_for(target.service.router)
    if image is None:
        raise PermanentError(f"say which image to preview: /deploy {target.name} <tag> preview")
    split = Split(weight=tracks.live_split(kube, target).weight, preview=True)
    router.check(split)
    started = time.monotonic()
    what = f"preview of {render.version_of(image)}"
    tracks.apply_track(kube, target, image, tracks.Change(who, f"{who}: {what}", now()), track="preview",
                      replicas=1)
    progress = Progress(reply_to, job_id())
    tracks.wait_rollout(kube, target, "preview",
                       lambda s: progress.show(say.progress(target.name, target.env_name, what, s,
                                                                          locale)))
    tracks.apply_split(kube, target, router, split)
    finish(reply_to, say.done(target.name, target.env_name, what, {"ready": 1, "desired": 1},
                               time.monotonic() - started, (router.describe(split, 0),), locale=locale))


class _Aborted(Exception):
    """A rollout step gave up cleanly; the message says what was undone."""

    def __init__(self, message: Message):
        super().__init__(message.title)
        self.message = message


def deploy(service: str, env: str, tag: str | None, strategy: str, weight: int | None, who: str,
           reply_to: dict, break_glass: str | None = None) -> None:
    """/deploy <svc> [<tag>] [to <env>] [rolling | canary N% | preview]; the tag must have passed the env before."""
    where = places(service, env, strategy)
    kube, target = where[0].kube, where[0].target
    if tag is None and not (strategy == "canary" and _canary_live(kube, target)):
        newest = images.latest(runtime.get().redis, service)
        if newest is None:
            raise PermanentError(f"no tag given and {service} has no build yet: /deploy {service} <tag>")
        tag = newest["tag"]
    if tag is not None:  # None: the live canary's own image gets a new weight
        promotion.admit(service, env, tag, break_glass, who, reply_to)
    image = _image(target, tag)
    if target.service.kind == "cronjob":
        assert image is not None
        _scheduled(where, image, who, reply_to, f"{who}: /deploy {service} {tag}")
        return
    if strategy == "rolling":
        what = f"rolling update to {render.version_of(image)}"  # type: ignore[arg-type]
        holder = lock(target, locks.Holder(job_id(), who, what, "rolling"), target.env.progress_deadline * 3 + 120)
        cause = f"{who}: /deploy {service} {tag}"
        assert image is not None
    else:
        what = f"canary {weight}%" if strategy == "canary" else "preview"
        holder = lock(target, locks.Holder(job_id(), who, what, strategy), CANARY_LOCK_TTL,
                       joinable=("canary", "preview"))
    try:
        with cluster_errors():
            if len(where) > 1:
                if not _across(where, image, strategy, weight or 0, who, reply_to, f"{who}: /deploy {service} {tag}"):
                    release(target, holder)  # a failed canary or preview was removed everywhere
            elif strategy == "rolling":
                _rolling(kube, target, image, who, reply_to, what, cause)  # type: ignore[arg-type]
            elif strategy == "canary":
                _canary(kube, target, image, weight or 0, who, reply_to)
            else:
                _preview(kube, target, image, who, reply_to)
    except _Aborted as aborted:
        release(target, holder)
        finish(reply_to, aborted.message)
        return
    except PermanentError:
        if strategy == "rolling":
            release(target, holder)
        raise
    if strategy == "rolling":
        release(target, holder)


def _across(where: list[Place], image: str | None, strategy: str, weight: int, who: str, reply_to: dict,
            cause: str) -> bool:
    """A deploy to an environment that spans clusters; False when a canary or preview failed and was removed."""
    change, progress = tracks.Change(who, cause, now()), Progress(reply_to, job_id())
    done = lambda message: finish(reply_to, message)  # noqa: E731
    if strategy == "rolling":
        assert image is not None
        rollout_clusters.rolling(where, image, change, f"rolling update to {render.version_of(image)}", progress, done)
        return True
    if strategy == "canary":
        return rollout_clusters.canary(where, image, weight, change, progress, done)
    if image is None:
        raise PermanentError(f"say which image to preview: /deploy {where[0].target.name} <tag> preview")
    return rollout_clusters.preview(where, image, change, progress, done)


def _scheduled(where: list[Place], image: str, who: str, reply_to: dict, cause: str) -> None:
    """A scheduled job's deploy: its CronJob gets the image, under the rollout lock; the next run uses it."""
    target = where[0].target
    what = f"scheduled job image {render.version_of(image)}"
    holder = lock(target, locks.Holder(job_id(), who, what, "rolling"), 300)
    try:
        with cluster_errors():
            for place in where:  # a schedule runs on each of its clusters
                scheduled.apply_cron_job(place.kube, place.target, image, tracks.Change(who, cause, now()))
    finally:
        release(target, holder)
    svc = target.service
    finish(reply_to, say.cron_job_set(target.name, target.env_name, image, svc.schedule or "",
                                       svc.concurrency_policy, locale_of(reply_to)))


def control(service: str, env: str, step: str, who: str, reply_to: dict) -> None:
    """/deploy <svc> promote | abort: finish or cancel the live canary (and preview)."""
    locale = locale_of(reply_to)
    where = places(service, env, step)
    kube, target = where[0].kube, where[0].target
    router = router_for(target.service.router)
    redis = runtime.get().redis
    holder = locks.holder(redis, service, env)
    if len(where) > 1:
        with cluster_errors():
            rollout_clusters.control(where, step, who, now(), Progress(reply_to, job_id()),
                                     lambda m: finish(reply_to, m))
            previews = any(tracks.live_split(p.kube, p.target).preview for p in where)
        if holder and not previews:
            locks.release(redis, service, env, holder.rollout)
        return
    with cluster_errors():
        split = tracks.live_split(kube, target)
        if not split.weight and not split.preview:
            raise PermanentError(f"{service} ({env}) has no live canary or preview to {step}")
        started = time.monotonic()
        if step == "promote":
            track = "canary" if split.weight else "preview"
            dep = fetching.read_deployment(kube, target.namespace, render.workload_name(service, track))
            image = fetching.image_of(dep)
            what = f"promote {track} {render.version_of(image)} to stable"
            tracks.apply_track(kube, target, image, tracks.Change(who, f"{who}: {what}", now()))
            progress = Progress(reply_to, job_id())
            try:
                summary = tracks.wait_rollout(kube, target, "stable", lambda s: progress.show(
                    say.progress(service, env, what, s, locale=locale)))
            except tracks.RolloutFailed as failure:
                finish(reply_to, say.failed(service, env, what, failure.reason, failure.details,
                                             f"the {track} still takes its traffic; /deploy {service} abort "
                                             f"removes it", locale=locale))
                return
            remaining = Split(weight=0, preview=split.preview and track == "canary")
            promotion.passed(service, env, image)
        else:
            what, summary, remaining = "abort", None, Split()
        tracks.apply_split(kube, target, router, remaining)
        for track in ("canary", "preview"):
            if (track == "canary" or not remaining.preview):
                tracks.remove_track(kube, target, track)
    if holder and not remaining.preview:
        locks.release(redis, service, env, holder.rollout)
    if step == "promote":
        finish(reply_to, say.done(service, env, what, summary, time.monotonic() - started, locale=locale))  # type: ignore[arg-type]
    else:
        finish(reply_to, say.aborted(service, env, locale=locale))


def rollback(service: str, env: str, revision: int | None, who: str, reply_to: dict) -> None:
    """/rollback <svc> [to <revision>]: the previous revision's image, or a named one.

    Across clusters, the first cluster's history numbers the revisions (as /history shows them)."""
    locale = locale_of(reply_to)
    where = places(service, env, "rollback")
    kube, target = where[0].kube, where[0].target
    with cluster_errors():
        revisions = fetching.history(kube, target.namespace, service)
        if not revisions:
            raise PermanentError(f"{service} ({env}) has never been deployed")
        if revision is None:
            current = revisions[-1]
            earlier = [r for r in revisions[:-1] if r.image != current.image]
            if not earlier:
                raise PermanentError(f"{service} ({env}) has no earlier revision to roll back to")
            chosen = earlier[-1]
        else:
            matches = [r for r in revisions if r.number == revision]
            if not matches:
                known = ", ".join(str(r.number) for r in revisions)
                raise PermanentError(f"{service} ({env}) has no revision {revision} (it has {known}; see /history)")
            chosen = matches[0]
    what = f"rollback to revision {chosen.number} ({render.version_of(chosen.image)})"
    holder = lock(target, locks.Holder(job_id(), who, what, "rollback"), target.env.progress_deadline * 3 + 120)
    try:
        with cluster_errors():
            progress = Progress(reply_to, job_id())
            if len(where) > 1:
                rollout_clusters.set_image(where, chosen.image, what, tracks.Change(who, f"{who}: {what}", now()),
                                           progress, lambda m: finish(reply_to, m))
                return
            started = time.monotonic()
            tracks.apply_track(kube, target, chosen.image, tracks.Change(who, f"{who}: {what}", now()))
            try:
                summary = tracks.wait_rollout(kube, target, "stable",
                                             lambda s: progress.show(say.progress(service, env, what, s, locale=locale)))
            except tracks.RolloutFailed as failure:
                finish(reply_to, say.failed(service, env, what, failure.reason, failure.details,
                                             "check /status and /events", locale=locale))
                return
            finish(reply_to, say.done(service, env, what, summary, time.monotonic() - started, locale=locale))
    finally:
        release(target, holder)


# The chat verbs' jobs (named by their command classes in bots/commands/).

def deploy_command(cmd: c.Deploy, who: str, reply_to: dict) -> None:
    if cmd.steps or cmd.catalog_plan:
        from jobs import plans  # plans drive this module's deploy and control: a real cycle, broken here

        plans.start(cmd, who, reply_to)
        return
    deploy(cmd.service, cmd.env, cmd.tag, cmd.strategy, cmd.weight, who, reply_to, cmd.break_glass)


def control_command(cmd: c.DeployControl, who: str, reply_to: dict) -> None:
    if cmd.step in ("pause", "resume"):
        from jobs import plans  # as above

        (plans.pause if cmd.step == "pause" else plans.resume)(cmd.service, cmd.env, who)
        return
    control(cmd.service, cmd.env, cmd.step, who, reply_to)
    from jobs import plans  # as above

    plans.ended(cmd.service, cmd.env, cmd.step, who)


def rollback_command(cmd: c.Rollback, who: str, reply_to: dict) -> None:
    rollback(cmd.service, cmd.env, cmd.revision, who, reply_to)
