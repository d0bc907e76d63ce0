"""Pure builders of the messages commands answer with."""

from __future__ import annotations

from dataclasses import dataclass

from bots.commands import REGISTRY
from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import SEVERITY_ORDER, Message
from bots.status_messages import SHORT_CHECKSUM, status_message
from rules.models import Service
from rules.workload import ValueRef

__all__ = ["PodLog", "config_message", "error_message", "fit_logs", "held_digest", "help_message", "history_message",
           "job_failed", "logs_message", "status_message"]  # /status lives in bots/status_messages.py


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


def history_message(name: str, env: str, revisions: list, clusters: dict[str, set[str]] | None = None,
                    zone: str = "UTC", locale: str = DEFAULT_LOCALE) -> Message:
    """/history: revision, image tag, who, when (dated, in `zone`) and why, newest last.

    `clusters` (an environment split across clusters) maps an image to the clusters it went to."""
    if not revisions:
        return Message(title=say(locale, "{name} ({env}) has no rollout history yet", name=name, env=env))

    def on(image: str) -> str:
        return say(locale, "  on {clusters}", clusters=", ".join(sorted(clusters.get(image, ())))) \
            if clusters is not None else ""

    # The cause is what Dockyard wrote on the revision (a command, 'automatic rollback to ...'): kept as written.
    lines = tuple(f"#{r.number}  {r.image.rsplit(':', 1)[-1]}  {r.who or '?'}  {moment(r.when, zone) or '?'}  "
                  f"{r.cause}{on(r.image)}"
                  + (say(locale, "  ← current") if i == len(revisions) - 1 else "") for i, r in enumerate(revisions))
    return Message(title=say(locale, "{name} ({env}) history", name=name, env=env), lines=lines,
                   cut_from="start", locale=locale,  # a cut keeps the newest, and says so in the channel's language
                   footer=f"/rollback {name} to <revision>" + (f" in {env}" if env != "test" else ""))


def config_message(name: str, service: Service, env: str, present: dict[tuple[str, str], bool] | None,
                   running: dict | None, now: str | None, locale: str = DEFAULT_LOCALE) -> Message:
    """/config: each variable and file with its source; a Secret is named by name and key, its value never shown.

    `present` says which ConfigMap keys the cluster has (None: no cluster); `running` is the stable
    Deployment's summary (None: not deployed, or no cluster); `now` the checksum a deploy would give today."""
    override = service.environments[env].config
    merged = service.config_in(env)
    namespace = service.environments[env].namespace
    where = f" in {env}" if env != "test" else ""

    def origin(key: str, table: str) -> str:
        return say(locale, "{env} override", env=env) if override is not None and key in getattr(override, table) \
            else say(locale, "service")

    lines: list[str] = []
    for key, value in merged.env.items():
        if isinstance(value, ValueRef):
            hidden = say(locale, " (value never shown)") if value.secret else ""
            lines.append(f"{key} ← {value.source}{hidden}  [{origin(key, 'env')}]")
        else:
            shown = value if len(value) <= 80 else value[:79] + "…"
            lines.append(f"{key} = {shown}  ({say(locale, 'literal')})  [{origin(key, 'env')}]")
    for path, ref in merged.files.items():
        lines.append(f"file {path} ← configmap {ref.configmap}:{ref.key}  [{origin(path, 'files')}]")
    lines.append(f"DOCKYARD_SERVICE = {name}, DOCKYARD_ENV = {env}  ({say(locale, 'set by Dockyard')})")
    severity = "info"
    for (cm, key), there in (present or {}).items():
        if not there:
            lines.append(say(locale, "⚠ ConfigMap {configmap} has no key {key} in {namespace}: deploys are refused until "
                                     "it has", configmap=cm, key=key, namespace=namespace))
            severity = "warning"
    fields: list[tuple[str, str]] = []
    if running is not None and running.get("config"):
        fields.append((say(locale, "running"), running["config"][:SHORT_CHECKSUM]))
    if now is not None:
        fields.append((say(locale, "a deploy now"), now[:SHORT_CHECKSUM]))
        if running is not None and running.get("config") and running["config"] != now:
            tag = running["image"].rsplit(":", 1)[-1]
            lines.append(say(locale, "the configuration changed since the running pods started: {command} rolls them "
                                     "onto it", command=f"/deploy {name} {tag}{' to ' + env if env != 'test' else ''}"))
            severity = "warning"
    if present is not None and running is None:
        lines.append(say(locale, "{name} is not deployed in {namespace} yet", name=name, namespace=namespace))
    secrets = any(isinstance(v, ValueRef) and v.secret for v in merged.env.values())
    footer = (say(locale, "Secrets are named, never read: rotating one rolls nothing; {command} does",
                  command=f"/restart {name}{where}") if secrets else "")
    if not merged.env and not merged.files:
        return Message(title=say(locale, "{name} ({env}) has no configuration in the catalog", name=name, env=env),
                       lines=tuple(lines), footer=say(locale, "add config: to the service in rules/catalog.yaml"))
    return Message(title=say(locale, "{name} ({env}) configuration", name=name, env=env), severity=severity, fields=tuple(fields),  # type: ignore[arg-type]
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


def _crash_text(crash: dict, zone: str, locale: str = DEFAULT_LOCALE) -> str:
    parts = [crash["reason"] or say(locale, "ended"),
             say(locale, "exit {code}", code=crash["exit_code"]) if crash["exit_code"] is not None else "",
             say(locale, "at {time}", time=moment(crash["finished"], zone)) if crash["finished"] else "",
             say(locale, "restarted {count}×", count=crash["restarts"])]
    return ", ".join(p for p in parts if p)


def logs_message(name: str, env: str, tail: int, per_pod: list[PodLog], budget: int, previous: bool = False,
                 never_restarted: tuple[str, ...] = (), zone: str = "UTC", locale: str = DEFAULT_LOCALE) -> Message:
    """/logs: the last `tail` lines of each pod (of its previous container with --previous), as many as fit.

    `budget` is what the answering sink carries in one message (bytes); what does not fit is left out
    oldest first, and the message says so for each pod and how to see the rest."""
    where = f" in {env}" if env != "test" else ""
    if previous and not per_pod:
        if not never_restarted:
            return Message(title=say(locale, "{name} ({env}) has no pods", name=name, env=env))
        return Message(title=say(locale, "{name} ({env}): no pod has restarted, so there is no previous container to "
                                         "show", name=name, env=env),
                       lines=(say(locale, "pods: {pods}", pods=", ".join(never_restarted)),),
                       footer=say(locale, "{command} shows the running containers", command=f"/logs {name}{where}"))
    if not per_pod:
        return Message(title=say(locale, "{name} ({env}) has no pods", name=name, env=env))
    lines: list[str] = []
    cut_any = False
    for log, kept, cut in fit_logs(per_pod, budget):
        heading = f"── {log.pod}"
        if log.crash is not None:
            heading += say(locale, " (previous container: {crash})", crash=_crash_text(log.crash, zone, locale))
        if cut:
            cut_any = True
            heading += say(locale, " — newest {kept} of {total} lines; {cut} older left out to fit one message",
                           kept=len(kept), total=len(log.lines), cut=cut)
        lines.append(heading)
        lines += kept
    if never_restarted:
        lines.append(say(locale, "never restarted, so no previous container: {pods}", pods=", ".join(never_restarted)))
    title = "{name} ({env}) previous (crashed) container's logs, last {tail} lines per pod" if previous else \
        "{name} ({env}) logs, last {tail} lines per pod"
    footer = (say(locale, "lines were left out to fit one message: ask for fewer ({command}) or read one pod with "
                          "kubectl logs", command=f"/logs {name} --tail <N>{where}") if cut_any else "")
    return Message(title=say(locale, title, name=name, env=env, tail=tail), lines=tuple(lines), footer=footer)


def job_failed(what: str, attempts: int | None, reason: str, job_id: str, locale: str = DEFAULT_LOCALE) -> Message:
    """After the last retry: what failed, why (as the job said it), and how to run it again."""
    tries = say(locale, " after {attempts} attempts", attempts=attempts) if attempts else ""
    return Message(title=say(locale, "{what} failed{tries}", what=what, tries=tries), severity="error",
                   lines=(reason, say(locale, "job {id} is kept in the failed registry for 7 days; requeue it with "
                                              "./dockyard jobs requeue {id}", id=job_id)))


def held_digest(held: list[Message], locale: str = DEFAULT_LOCALE) -> Message:
    """What a channel's quiet hours held back, as one message at the most urgent severity among them."""
    return Message(title=say(locale, "{count} message(s) held during quiet hours", count=len(held)),
                   severity=max((m.severity for m in held), key=SEVERITY_ORDER.index),
                   lines=tuple(m.title for m in held))
