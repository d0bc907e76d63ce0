"""Pure builders of the messages commands answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bots.commands import REGISTRY
from bots.i18n import moment
from bots.message import SEVERITY_ORDER, Message
from rules.models import Service
from rules.workload import ValueRef

SHORT_CHECKSUM = 8  # characters of a configuration checksum shown in chat, like a short git commit


def help_message(topic: str | None) -> Message:
    """/help lists every command; /help <command> gives its usage."""
    if topic:
        verb = REGISTRY[topic]
        return Message(title=f"/{topic} — {verb.summary}", lines=(f"usage: {verb.usage}",))
    return Message(title="Dockyard commands", fields=tuple((f"/{v.name}", v.summary) for v in REGISTRY.values()),
                   footer="/help <command> shows its usage")


def error_message(text: str) -> Message:
    """A command that could not run: one line of reason, then the usage."""
    reason, _, usage = text.partition("\n")
    return Message(title=reason, severity="error", lines=(usage,) if usage else (), ephemeral=True)


def _track_line(env: str, track: str, summary: dict, router: str, stable_ready: int) -> str:
    line = f"{env} {track}: {summary['ready']}/{summary['desired']} ready, image {summary['image']}"
    weight = summary.get("annotations", {}).get("dockyard.dev/canary-weight")
    if track == "canary" and weight:
        if router == "replicas":
            total = stable_ready + summary["ready"]
            actual = round(100 * summary["ready"] / total) if total else 0
            line += f", weight {weight}% asked, {actual}% actual by replicas"
        else:
            line += f", weight {weight}% ({router})"
    return line


def _autoscale_line(name: str, env: str, hpa: dict) -> tuple[str, bool]:
    """'test autoscale: 2–10, 4 current, 5 desired' and whether it sits at a maximum it could leave."""
    current, desired = hpa.get("current"), hpa.get("desired")
    counts = ", ".join(f"{n} {what}" for n, what in ((current, "current"), (desired, "desired")) if n is not None)
    line = f"{env} autoscale: {hpa['min']}–{hpa['max']}" + (f", {counts}" if counts else ", not acted on yet")
    at_max = max(current or 0, desired or 0) >= hpa["max"] and hpa["min"] < hpa["max"]
    if at_max:
        where = f" in {env}" if env != "test" else ""
        line += (f" — at its maximum of {hpa['max']}: raise it with /autoscale {name} {hpa['min']}-<max>{where} "
                 f"or in the catalog")
    set_by = hpa.get("annotations", {}).get("dockyard.dev/autoscale-set-by")
    if set_by:
        said = hpa["annotations"].get("dockyard.dev/autoscale-catalog", "none")
        line += f" (set by {set_by} with /autoscale; the catalog says {said})"
    return line, at_max


def status_message(name: str, service: Service, live: dict[str, dict | None], envs: list[str],
                   now: str = "") -> Message:
    """/status: what the catalog says, plus the cluster's view where there is one.

    `live` maps an environment to its stable Deployment's summary with its canary,
    preview, pods and recent warnings (a scheduled job: its CronJob's summary and runs;
    None when not deployed; no key when no cluster). `now` (ISO, UTC) dates the pods' ages.
    """
    fields: list[tuple[str, str]] = [("team", service.team), ("language", service.language),
                                     ("git", service.git), ("router", service.router)]
    lines: list[str] = []
    severity = "info"
    for env in envs:
        spec = service.environments[env]
        approval = ", prod approval required" if spec.approval == "required" else ""
        scaling = f", autoscale {spec.autoscale.describe()}" if spec.autoscale else ""
        size = f"{spec.replicas} ×" if service.kind != "cronjob" else "1 pod per run ×"
        fields.append((env, f"{spec.namespace}: {size} {spec.resources}{approval}{scaling}"))
        if env not in live:
            continue
        summary = live[env]
        if summary is not None and "clusters" in summary:  # an environment split across clusters: each, then all
            ready = desired = 0
            for cluster, part in summary["clusters"].items():
                if part is not None and "unreachable" in part:
                    lines.append(f"{env} on {cluster}: unreachable ({part['unreachable']})")
                    severity = "warning"
                    continue
                severity = _env_lines(f"{env} on {cluster}", name, service, spec.namespace, part, now, lines,
                                      severity)
                ready, desired = ready + (part or {}).get("ready", 0), desired + (part or {}).get("desired", 0)
            lines.append(f"{env} in all: {ready}/{desired} ready on {len(summary['clusters'])} clusters")
            continue
        severity = _env_lines(env, name, service, spec.namespace, summary, now, lines, severity)
    if not live:
        lines.append("no cluster configured: showing the catalog only")
    return Message(title=f"{name} status", severity=severity, fields=tuple(fields), lines=tuple(lines))  # type: ignore[arg-type]


def _env_lines(env: str, name: str, service: Service, namespace: str, summary: dict | None, now: str,
               lines: list[str], severity: str) -> str:
    """Append one environment's (or one cluster's part of it) live lines; returns the severity so far."""
    if summary is None:
        kind = "CronJob" if service.kind == "cronjob" else "Deployment"
        lines.append(f"{env}: not deployed yet (no {kind} {name} in {namespace})")
        return severity
    if service.kind == "cronjob":
        return "warning" if _cron_job_lines(env, summary, lines) else severity
    config = f", config {summary['config'][:SHORT_CHECKSUM]}" if summary.get("config") else ""
    lines.append(f"{env}: {summary['ready']}/{summary['desired']} ready, {summary['updated']} updated, "
                 f"image {summary['image']}{config}")
    if summary.get("autoscale"):
        line, at_max = _autoscale_line(name, env, summary["autoscale"])
        lines.append(line)
        severity = "warning" if at_max else severity
    for track in ("canary", "preview"):
        if summary.get(track):
            lines.append(_track_line(env, track, summary[track], service.router, summary["ready"]))
    lines += _pod_lines(env, summary.get("pods", []), now)
    lines += [f"{env} warning: {w}" for w in summary.get("warnings", [])]
    if summary["ready"] < summary["desired"] or summary.get("warnings"):
        severity = "warning"
    return severity


def history_message(name: str, env: str, revisions: list, clusters: dict[str, set[str]] | None = None,
                    zone: str = "UTC") -> Message:
    """/history: revision, image tag, who, when (dated, in `zone`) and why, newest last.

    `clusters` (an environment split across clusters) maps an image to the clusters it went to."""
    if not revisions:
        return Message(title=f"{name} ({env}) has no rollout history yet")

    def on(image: str) -> str:
        return f"  on {', '.join(sorted(clusters.get(image, ())))}" if clusters is not None else ""

    lines = tuple(f"#{r.number}  {r.image.rsplit(':', 1)[-1]}  {r.who or '?'}  {moment(r.when, zone) or '?'}  "
                  f"{r.cause}{on(r.image)}"
                  + ("  ← current" if i == len(revisions) - 1 else "") for i, r in enumerate(revisions))
    return Message(title=f"{name} ({env}) history", lines=lines, cut_from="start",  # a cut keeps the newest
                   footer=f"/rollback {name} to <revision>" + (f" in {env}" if env != "test" else ""))


def config_message(name: str, service: Service, env: str, present: dict[tuple[str, str], bool] | None,
                   running: dict | None, now: str | None) -> Message:
    """/config: each variable and file with its source; a Secret is named by name and key, its value never shown.

    `present` says which ConfigMap keys the cluster has (None: no cluster); `running` is the stable
    Deployment's summary (None: not deployed, or no cluster); `now` the checksum a deploy would give today."""
    override = service.environments[env].config
    merged = service.config_in(env)
    namespace = service.environments[env].namespace
    where = f" in {env}" if env != "test" else ""

    def origin(key: str, table: str) -> str:
        return f"{env} override" if override is not None and key in getattr(override, table) else "service"

    lines: list[str] = []
    for key, value in merged.env.items():
        if isinstance(value, ValueRef):
            hidden = " (value never shown)" if value.secret else ""
            lines.append(f"{key} ← {value.source}{hidden}  [{origin(key, 'env')}]")
        else:
            shown = value if len(value) <= 80 else value[:79] + "…"
            lines.append(f"{key} = {shown}  (literal)  [{origin(key, 'env')}]")
    for path, ref in merged.files.items():
        lines.append(f"file {path} ← configmap {ref.configmap}:{ref.key}  [{origin(path, 'files')}]")
    lines.append(f"DOCKYARD_SERVICE = {name}, DOCKYARD_ENV = {env}  (set by Dockyard)")
    severity = "info"
    for (cm, key), there in (present or {}).items():
        if not there:
            lines.append(f"⚠ ConfigMap {cm} has no key {key} in {namespace}: deploys are refused until it has")
            severity = "warning"
    fields: list[tuple[str, str]] = []
    if running is not None and running.get("config"):
        fields.append(("running", running["config"][:SHORT_CHECKSUM]))
    if now is not None:
        fields.append(("a deploy now", now[:SHORT_CHECKSUM]))
        if running is not None and running.get("config") and running["config"] != now:
            tag = running["image"].rsplit(":", 1)[-1]
            lines.append(f"the configuration changed since the running pods started: /deploy {name} {tag}"
                         f"{' to ' + env if env != 'test' else ''} rolls them onto it")
            severity = "warning"
    if present is not None and running is None:
        lines.append(f"{name} is not deployed in {namespace} yet")
    secrets = any(isinstance(v, ValueRef) and v.secret for v in merged.env.values())
    footer = (f"Secrets are named, never read: rotating one rolls nothing; /restart {name}{where} does"
              if secrets else "")
    if not merged.env and not merged.files:
        return Message(title=f"{name} ({env}) has no configuration in the catalog", lines=tuple(lines),
                       footer="add config: to the service in rules/catalog.yaml")
    return Message(title=f"{name} ({env}) configuration", severity=severity, fields=tuple(fields),  # type: ignore[arg-type]
                   lines=tuple(lines), footer=footer)


@dataclass(frozen=True)
class PodLog:
    """One pod's log lines, oldest first; `crash` says how its previous container ended (with --previous)."""

    pod: str
    lines: tuple[str, ...]
    crash: dict | None = None


LOG_LINE_MAX = 1000  # characters of one log line shown; a longer one (a JSON blob, a stack on one line) ends in …
HEADER_BYTES = 160  # room for a pod's heading line in the budget


def fit_logs(per_pod: list[PodLog], budget: int) -> list[tuple[PodLog, tuple[str, ...], int]]:
    """Each pod's newest lines that fit a fair share of `budget` bytes, and how many older lines were left out.

    Pods with few lines leave their unused share to the others, so one chatty pod does not starve the rest."""
    room = max(0, budget - HEADER_BYTES * len(per_pod))
    shown: dict[int, tuple[tuple[str, ...], int]] = {}
    order = sorted(range(len(per_pod)), key=lambda i: sum(len(line.encode()) + 1 for line in per_pod[i].lines))
    for place, index in enumerate(order):
        share, used, kept = room // (len(order) - place), 0, []
        for line in reversed(per_pod[index].lines):
            line = line if len(line) <= LOG_LINE_MAX else line[:LOG_LINE_MAX - 1] + "…"
            size = len(line.encode()) + 1
            if used + size > share:
                break
            kept.append(line)
            used += size
        room -= used
        shown[index] = (tuple(reversed(kept)), len(per_pod[index].lines) - len(kept))
    return [(log, *shown[i]) for i, log in enumerate(per_pod)]


def _crash_text(crash: dict, zone: str) -> str:
    parts = [crash["reason"] or "ended", f"exit {crash['exit_code']}" if crash["exit_code"] is not None else "",
             f"at {moment(crash['finished'], zone)}" if crash["finished"] else "", f"restarted {crash['restarts']}×"]
    return ", ".join(p for p in parts if p)


def logs_message(name: str, env: str, tail: int, per_pod: list[PodLog], budget: int, previous: bool = False,
                 never_restarted: tuple[str, ...] = (), zone: str = "UTC") -> Message:
    """/logs: the last `tail` lines of each pod (of its previous container with --previous), as many as fit.

    `budget` is what the answering sink carries in one message (bytes); what does not fit is left out
    oldest first, and the message says so for each pod and how to see the rest."""
    where = f" in {env}" if env != "test" else ""
    if previous and not per_pod:
        if not never_restarted:
            return Message(title=f"{name} ({env}) has no pods")
        return Message(title=f"{name} ({env}): no pod has restarted, so there is no previous container to show",
                       lines=(f"pods: {', '.join(never_restarted)}",),
                       footer=f"/logs {name}{where} shows the running containers")
    if not per_pod:
        return Message(title=f"{name} ({env}) has no pods")
    lines: list[str] = []
    cut_any = False
    for log, kept, cut in fit_logs(per_pod, budget):
        heading = f"── {log.pod}"
        if log.crash is not None:
            heading += f" (previous container: {_crash_text(log.crash, zone)})"
        if cut:
            cut_any = True
            heading += f" — newest {len(kept)} of {len(log.lines)} lines; {cut} older left out to fit one message"
        lines.append(heading)
        lines += kept
    if never_restarted:
        lines.append(f"never restarted, so no previous container: {', '.join(never_restarted)}")
    which = "previous (crashed) container's logs" if previous else "logs"
    footer = (f"lines were left out to fit one message: ask for fewer (/logs {name} --tail <N>{where}) "
              f"or read one pod with kubectl logs" if cut_any else "")
    return Message(title=f"{name} ({env}) {which}, last {tail} lines per pod", lines=tuple(lines), footer=footer)


def job_failed(what: str, attempts: int | None, reason: str, job_id: str) -> Message:
    """After the last retry: what failed, why, and how to run it again."""
    tries = f" after {attempts} attempts" if attempts else ""
    return Message(title=f"{what} failed{tries}", severity="error",
                   lines=(reason, f"job {job_id} is kept in the failed registry for 7 days; requeue it with "
                                  f"./dockyard jobs requeue {job_id}"))


def held_digest(held: list[Message]) -> Message:
    """What a channel's quiet hours held back, as one message at the most urgent severity among them."""
    return Message(title=f"{len(held)} message(s) held during quiet hours",
                   severity=max((m.severity for m in held), key=SEVERITY_ORDER.index),
                   lines=tuple(m.title for m in held))


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


def _pod_lines(env: str, pods: list[dict], now: str) -> list[str]:
    """Each track's pods: name, node, IP, image, ready, restarts, age (what `kubectl get pods -o wide` shows)."""
    lines: list[str] = []
    for track in ("stable", "canary", "preview"):
        mine = sorted((p for p in pods if p["track"] == track), key=lambda p: p["name"])
        if not mine:
            continue
        lines.append(f"{env} {track} pods (name, node, IP, image, ready, restarts, age):")
        for pod in mine:
            ready = "ready" if pod["ready"] else f"not ready ({pod['phase'] or '?'})"
            lines.append(f"  {pod['name']}  {pod['node'] or 'unscheduled'}  {pod['ip'] or '-'}  "
                         f"{pod['image'].rsplit('/', 1)[-1]}  {ready}  {pod['restarts']}  "
                         f"{_age(pod['started'], now) if pod['started'] else '?'}")
    return lines


def _cron_job_lines(env: str, cron: dict, lines: list[str]) -> bool:
    """A scheduled job's schedule and its runs, newest last; True when its newest finished run failed."""
    state = ", suspended" if cron["suspended"] else ""
    zone = f" ({cron['time_zone']})" if cron["time_zone"] else ""
    lines.append(f"{env}: schedule {cron['schedule']}{zone}{state}, overlapping runs {cron['concurrency']}, "
                 f"image {cron['image']}")
    if cron["last_scheduled"]:
        lines.append(f"{env}: last scheduled {cron['last_scheduled']}")
    if not cron["runs"]:
        lines.append(f"{env}: no runs kept yet (the first starts on the schedule)")
    for run in cron["runs"]:
        how = {"succeeded": "succeeded", "running": "running"}.get(run["outcome"],
                                                                  f"failed ({run['reason'] or 'no reason given'})")
        finished = f", finished {run['finished']}" if run["finished"] else ""
        lines.append(f"{env} run {run['name']}: started {run['started'] or '?'}{finished}, {how}, "
                     f"image {run['image'].rsplit('/', 1)[-1]}")
    finished_runs = [r for r in cron["runs"] if r["outcome"] != "running"]
    return bool(finished_runs) and finished_runs[-1]["outcome"] == "failed"
