"""/status: what the catalog says about a service, and each cluster's live view of it. Pure.

Dockyard's own words and labels read in the channel's language; names, images, Kubernetes' phases and
warnings, and the commands it suggests stay as they are."""

from __future__ import annotations

from datetime import datetime

from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Message
from rules.models import Service

SHORT_CHECKSUM = 8  # characters of a configuration checksum shown in chat, like a short git commit


def _track_line(env: str, track: str, summary: dict, router: str, stable_ready: int, locale: str) -> str:
    line = say(locale, "{env} {track}: {ready}/{desired} ready, image {image}", env=env, track=say(locale, track),
               ready=summary["ready"], desired=summary["desired"], image=summary["image"])
    weight = summary.get("annotations", {}).get("dockyard.dev/canary-weight")
    if track == "canary" and weight:
        if router == "replicas":
            total = stable_ready + summary["ready"]
            actual = round(100 * summary["ready"] / total) if total else 0
            line += say(locale, ", weight {weight}% asked, {actual}% actual by replicas", weight=weight, actual=actual)
        else:
            line += say(locale, ", weight {weight}% ({router})", weight=weight, router=router)
    return line


def _autoscale_line(name: str, env: str, hpa: dict, locale: str, command_env: str = "",
                    total_min: int | None = None) -> tuple[str, bool]:
    """'test autoscale: 2–10, 4 current, 5 desired' and whether it sits at a maximum it could leave.

    `env` labels the line ('prod on east' for one cluster's part); the hint's command names the
    environment itself (`command_env`) and, on a split environment, the range of all its clusters
    together (`total_min`), which is what /autoscale takes and shares out again.
    """
    current, desired = hpa.get("current"), hpa.get("desired")
    counts = ", ".join(say(locale, "{count} " + what, count=n)
                       for n, what in ((current, "current"), (desired, "desired")) if n is not None)
    line = say(locale, "{env} autoscale: {low}–{high}", env=env, low=hpa["min"], high=hpa["max"]) + \
        (f", {counts}" if counts else say(locale, ", not acted on yet"))
    at_max = max(current or 0, desired or 0) >= hpa["max"] and hpa["min"] < hpa["max"]
    if at_max:
        target = command_env or env
        where = f" in {target}" if target != "test" else ""
        low = hpa["min"] if total_min is None else total_min
        line += say(locale, " — at its maximum of {high}: raise it with {command} or in the catalog", high=hpa["max"],
                    command=f"/autoscale {name} {low}-<max>{where}")
    set_by = hpa.get("annotations", {}).get("dockyard.dev/autoscale-set-by")
    if set_by:
        said = hpa["annotations"].get("dockyard.dev/autoscale-catalog", "none")
        line += say(locale, " (set by {who} with /autoscale; the catalog says {said})", who=set_by, said=said)
    return line, at_max


def status_message(name: str, service: Service, live: dict[str, dict | None], envs: list[str],
                   now: str = "", locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """/status: what the catalog says, plus the cluster's view where there is one.

    `live` maps an environment to its stable Deployment's summary with its canary,
    preview, pods and recent warnings (a scheduled job: its CronJob's summary and runs;
    None when not deployed; no key when no cluster). `now` (ISO, UTC) dates the pods' ages; a scheduled
    job's times read dated in `zone`.
    """
    fields: list[tuple[str, str]] = [(say(locale, "team"), service.team), (say(locale, "language"), service.language),
                                     (say(locale, "git"), service.git), (say(locale, "router"), service.router)]
    lines: list[str] = []
    severity = "info"
    for env in envs:
        spec = service.environments[env]
        approval = say(locale, ", prod approval required") if spec.approval == "required" else ""
        scaling = say(locale, ", autoscale {range}", range=spec.autoscale.describe()) if spec.autoscale else ""
        size = f"{spec.replicas} ×" if service.kind != "cronjob" else say(locale, "1 pod per run ×")
        fields.append((env, f"{spec.namespace}: {size} {spec.resources}{approval}{scaling}"))
        if env not in live:
            continue
        summary = live[env]
        if summary is not None and "clusters" in summary:  # an environment split across clusters: each, then all
            ready = desired = 0
            ranges = [p["autoscale"]["min"] for p in summary["clusters"].values()
                      if p is not None and "unreachable" not in p and p.get("autoscale")]
            split = {"command_env": env, "total_min": sum(ranges) if ranges else None}
            for cluster, part in summary["clusters"].items():
                if part is not None and "unreachable" in part:
                    lines.append(say(locale, "{env} on {cluster}: unreachable ({why})", env=env, cluster=cluster,
                                     why=part["unreachable"]))
                    severity = "warning"
                    continue
                severity = _env_lines(say(locale, "{env} on {cluster}", env=env, cluster=cluster), name, service,
                                      spec.namespace, part, now, lines, severity, locale, zone, **split)
                ready, desired = ready + (part or {}).get("ready", 0), desired + (part or {}).get("desired", 0)
            lines.append(say(locale, "{env} in all: {ready}/{desired} ready on {count} clusters", env=env, ready=ready,
                             desired=desired, count=len(summary["clusters"])))
            continue
        severity = _env_lines(env, name, service, spec.namespace, summary, now, lines, severity, locale, zone)
    if not live:
        lines.append(say(locale, "no cluster configured: showing the catalog only"))
    return Message(title=say(locale, "{name} status", name=name), severity=severity,  # type: ignore[arg-type]
                   fields=tuple(fields), lines=tuple(lines))


def _env_lines(env: str, name: str, service: Service, namespace: str, summary: dict | None, now: str,
               lines: list[str], severity: str, locale: str = DEFAULT_LOCALE, zone: str = "UTC",
               command_env: str = "", total_min: int | None = None) -> str:
    """Append one environment's (or one cluster's part of it) live lines; returns the severity so far."""
    if summary is None:
        kind = "CronJob" if service.kind == "cronjob" else "Deployment"
        lines.append(say(locale, "{env}: not deployed yet (no {kind} {name} in {namespace})", env=env, kind=kind,
                         name=name, namespace=namespace))
        return severity
    if service.kind == "cronjob":
        return "warning" if _cron_job_lines(env, summary, lines, locale, zone) else severity
    config = say(locale, ", config {checksum}", checksum=summary["config"][:SHORT_CHECKSUM]) \
        if summary.get("config") else ""
    lines.append(say(locale, "{env}: {ready}/{desired} ready, {updated} updated, image {image}", env=env,
                     ready=summary["ready"], desired=summary["desired"], updated=summary["updated"],
                     image=summary["image"]) + config)
    if summary.get("autoscale"):
        line, at_max = _autoscale_line(name, env, summary["autoscale"], locale, command_env, total_min)
        lines.append(line)
        severity = "warning" if at_max else severity
    for track in ("canary", "preview"):
        if summary.get(track):
            lines.append(_track_line(env, track, summary[track], service.router, summary["ready"], locale))
    lines += _pod_lines(env, summary.get("pods", []), now, locale)
    lines += [say(locale, "{env} warning: {warning}", env=env, warning=w) for w in summary.get("warnings", [])]
    if summary["ready"] < summary["desired"] or summary.get("warnings"):
        severity = "warning"
    return severity


def _age(started: str, now: str) -> str:
    """'45s', '12m', '3h', '2d' between two ISO times (UTC); '?' when either is unknown."""
    try:
        seconds = (datetime.fromisoformat(now.replace("Z", "+00:00")) -
                   datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


def _pod_lines(env: str, pods: list[dict], now: str, locale: str = DEFAULT_LOCALE) -> list[str]:
    """Each track's pods: name, node, IP, image, ready, restarts, age (what `kubectl get pods -o wide` shows)."""
    lines: list[str] = []
    for track in ("stable", "canary", "preview"):
        mine = sorted((p for p in pods if p["track"] == track), key=lambda p: p["name"])
        if not mine:
            continue
        lines.append(say(locale, "{env} {track} pods (name, node, IP, image, ready, restarts, age):", env=env,
                         track=say(locale, track)))
        for pod in mine:
            ready = say(locale, "ready") if pod["ready"] else say(locale, "not ready ({phase})",
                                                                  phase=pod["phase"] or "?")
            lines.append(f"  {pod['name']}  {pod['node'] or say(locale, 'unscheduled')}  {pod['ip'] or '-'}  "
                         f"{pod['image'].rsplit('/', 1)[-1]}  {ready}  {pod['restarts']}  "
                         f"{_age(pod['started'], now) if pod['started'] else '?'}")
    return lines


def _cron_job_lines(env: str, cron: dict, lines: list[str], locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> bool:
    """A scheduled job's schedule and its runs, newest last; True when its newest finished run failed."""
    state = say(locale, ", suspended") if cron["suspended"] else ""
    its_zone = f" ({cron['time_zone']})" if cron["time_zone"] else ""  # the CronJob's own zone for its schedule
    lines.append(say(locale, "{env}: schedule {schedule}{zone}{state}, overlapping runs {concurrency}, image {image}",
                     env=env, schedule=cron["schedule"], zone=its_zone, state=state, concurrency=cron["concurrency"],
                     image=cron["image"]))
    if cron["last_scheduled"]:
        lines.append(say(locale, "{env}: last scheduled {time}", env=env, time=moment(cron["last_scheduled"], zone)))
    if not cron["runs"]:
        lines.append(say(locale, "{env}: no runs kept yet (the first starts on the schedule)", env=env))
    for run in cron["runs"]:
        how = {"succeeded": lambda: say(locale, "succeeded"), "running": lambda: say(locale, "running")}.get(
            run["outcome"], lambda: say(locale, "failed ({reason})",
                                        reason=run["reason"] or say(locale, "no reason given")))()
        finished = say(locale, ", finished {time}", time=moment(run["finished"], zone)) if run["finished"] else ""
        lines.append(say(locale, "{env} run {run}: started {started}{finished}, {how}, image {image}", env=env,
                         run=run["name"], started=moment(run["started"], zone) or "?", finished=finished, how=how,
                         image=run["image"].rsplit("/", 1)[-1]))
    finished_runs = [r for r in cron["runs"] if r["outcome"] != "running"]
    return bool(finished_runs) and finished_runs[-1]["outcome"] == "failed"
