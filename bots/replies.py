"""Pure builders of the messages commands answer with."""

from __future__ import annotations

from bots.commands import REGISTRY
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


def status_message(name: str, service: Service, live: dict[str, dict | None], envs: list[str]) -> Message:
    """/status: what the catalog says, plus the cluster's view where there is one.

    `live` maps an environment to its stable Deployment's summary with its canary,
    preview and recent warnings (None when not deployed; no key when no cluster).
    """
    fields: list[tuple[str, str]] = [("team", service.team), ("language", service.language),
                                     ("git", service.git), ("router", service.router)]
    lines: list[str] = []
    severity = "info"
    for env in envs:
        spec = service.environments[env]
        approval = ", prod approval required" if spec.approval == "required" else ""
        scaling = f", autoscale {spec.autoscale.describe()}" if spec.autoscale else ""
        fields.append((env, f"{spec.namespace}: {spec.replicas} × {spec.resources}{approval}{scaling}"))
        if env not in live:
            continue
        summary = live[env]
        if summary is None:
            lines.append(f"{env}: not deployed yet (no Deployment {name} in {spec.namespace})")
            continue
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
        lines += [f"{env} warning: {w}" for w in summary.get("warnings", [])]
        if summary["ready"] < summary["desired"] or summary.get("warnings"):
            severity = "warning"
    if not live:
        lines.append("no cluster configured: showing the catalog only")
    return Message(title=f"{name} status", severity=severity, fields=tuple(fields), lines=tuple(lines))  # type: ignore[arg-type]


def history_message(name: str, env: str, revisions: list) -> Message:
    """/history: revision, image tag, who, when and why, newest last."""
    if not revisions:
        return Message(title=f"{name} ({env}) has no rollout history yet")
    lines = tuple(f"#{r.number}  {r.image.rsplit(':', 1)[-1]}  {r.who or '?'}  {r.when or '?'}  {r.cause}"
                  + ("  ← current" if i == len(revisions) - 1 else "") for i, r in enumerate(revisions))
    return Message(title=f"{name} ({env}) history", lines=lines,
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


def logs_message(name: str, env: str, tail: int, per_pod: list[tuple[str, list[str]]]) -> Message:
    """/logs: the last lines of each pod."""
    if not per_pod:
        return Message(title=f"{name} ({env}) has no pods")
    lines: list[str] = []
    for pod, text in per_pod:
        lines.append(f"── {pod}")
        lines += text
    return Message(title=f"{name} ({env}) logs, last {tail} lines per pod", lines=tuple(lines))


def events_message(name: str, since_seconds: int, events: list[dict]) -> Message:
    """/events: the Warning events kept for a service, newest last."""
    span = f"{since_seconds // 3600}h" if since_seconds % 3600 == 0 else f"{since_seconds // 60}m"
    if not events:
        return Message(title=f"no warnings for {name} in the last {span}")
    lines = tuple(f"{(e.get('at') or '')[11:19]}  {e.get('env', '')}  {e['reason']}  {e.get('object', '')}: "
                  f"{e['message']}" for e in events[-50:])
    more = (f"{len(events) - 50} older not shown",) if len(events) > 50 else ()
    return Message(title=f"{name}: {len(events)} warning(s) in the last {span}", lines=more + lines)


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
