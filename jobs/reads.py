"""The jobs behind /status, /history, /logs, /events and /help: read, and answer with a message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from bots import commands as c
from bots import event_messages, replies
from bots.message import Message
from bots.sinks import registry
from core import runtime
from core.errors import PermanentError
from deploy import api_errors, fanout, fetching, render
from deploy.kube import Kube
from deploy.render import Target
from jobs import incidents
from rules import routing

NO_CLUSTER = "no cluster configured: set KUBECONFIG (make run starts a local cluster)"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(reply_to: dict | None) -> str:
    """The time zone of the channel that asked (its `timezone:`), else DOCKYARD_TIMEZONE."""
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, reply_to or {}).zone


def _locale(reply_to: dict | None) -> str:
    """The language of the channel that asked (its `locale:`), else DOCKYARD_LOCALE."""
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, reply_to or {}).locale


def _read(what: Callable[[], object], namespace: str):
    """Run a read against the cluster, turning its errors into retry decisions."""
    with api_errors.translated(namespace):
        return what()


def _live(kube: Kube, service_name: str, service, ns: str) -> dict | None:
    """One environment's state on one cluster: its Deployment with tracks, pods and recent warnings."""
    if service.kind == "cronjob":  # a schedule and its runs, not replicas
        return _read(lambda: fetching.cron_job_summary(kube, ns, service_name), ns)
    stable = _read(lambda: fetching.deployment_summary(kube.apps, ns, service_name), ns)
    if stable is None:
        return None
    tracks = {t: _read(lambda t=t: fetching.deployment_summary(kube.apps, ns, render.workload_name(
        service_name, t)), ns) for t in ("canary", "preview")}
    pods = _read(lambda: fetching.pods(kube, ns, {"app": service_name}), ns)
    names = {p.metadata.name for p in pods}
    warnings = _read(lambda: fetching.warnings(kube, ns, names, limit=3), ns)
    return {**stable, "canary": tracks["canary"], "preview": tracks["preview"],
            "router": service.router, "pods": [fetching.pod_summary(p) for p in pods],
            "autoscale": _read(lambda: fetching.autoscaler_summary(kube, ns, service_name), ns),
            "warnings": [f"{w.reason}: {w.involved_object.name}: {w.message}" for w in warnings]}


def status(cmd: c.Status, who: str = "", reply_to: dict | None = None) -> Message:
    rt = runtime.get()
    service = rt.rules.service(cmd.service)
    if service is None:
        raise PermanentError(f"service {cmd.service!r} is not in the catalog")
    envs = [cmd.env] if cmd.env else list(service.environments)
    live: dict[str, dict | None] = {}
    if rt.settings.kubeconfig is not None or rt.rules.catalog.clusters:
        for env in envs:
            where = fanout.places(rt, cmd.service, env)
            ns = service.environments[env].namespace
            if len(where) == 1:
                live[env] = _live(where[0].kube, cmd.service, service, ns)
                continue
            down = fanout.unreachable(rt, where)  # one cluster down must not hide the others
            parts = fanout.each([p for p in where if p.cluster not in down],
                                lambda p: _live(p.kube, cmd.service, service, ns))
            found = {o.cluster: o.value if o.error is None else {"unreachable": str(o.error)} for o in parts}
            live[env] = {"clusters": {p.cluster: found.get(p.cluster, {"unreachable": down.get(p.cluster)})
                                      for p in where}}
    return replies.status_message(cmd.service, service, live, envs, now=_now(), locale=_locale(reply_to),
                                  zone=_zone(reply_to))


def history(cmd: c.History, who: str = "", reply_to: dict | None = None) -> Message:
    rt = runtime.get()
    if rt.settings.kubeconfig is None and not rt.rules.catalog.clusters:
        raise PermanentError(NO_CLUSTER)
    where = fanout.places(rt, cmd.service, cmd.env)
    ns = where[0].target.namespace
    per = fanout.each(where, lambda p: _read(lambda: fetching.history(p.kube, ns, cmd.service), ns))
    if len(where) == 1:
        if per[0].error is not None:
            raise per[0].error
        return replies.history_message(cmd.service, cmd.env, per[0].value or [], zone=_zone(reply_to),
                                       locale=_locale(reply_to))
    # The first cluster that answers numbers the revisions; each image says which clusters it went to.
    answered = [o for o in per if o.error is None]
    if not answered:
        raise PermanentError(f"no cluster of {cmd.service} ({cmd.env}) answered: {per[0].error}")
    went: dict[str, set[str]] = {}
    for outcome in answered:
        for revision in outcome.value or []:
            went.setdefault(revision.image, set()).add(outcome.cluster)
    return replies.history_message(cmd.service, cmd.env, answered[0].value or [], went, _zone(reply_to),
                                   _locale(reply_to))


def logs(cmd: c.Logs, who: str = "", reply_to: dict | None = None) -> Message:
    """/logs: each pod's last lines, on every cluster of the environment (pods named `<cluster>/<pod>` there)."""
    rt = runtime.get()
    if rt.settings.kubeconfig is None and not rt.rules.catalog.clusters:
        raise PermanentError(NO_CLUSTER)
    where = fanout.places(rt, cmd.service, cmd.env)
    per_pod: list[replies.PodLog] = []
    never_restarted: list[str] = []
    # One cluster down must not hide the others' logs: it gets a line saying so.
    down = fanout.unreachable(rt, where) if len(where) > 1 else {}
    for place in where:
        label = f"{place.cluster}/" if len(where) > 1 else ""
        if place.cluster in down:
            per_pod.append(replies.PodLog(place.cluster, (f"(cluster unreachable: {down[place.cluster]})",), None))
            continue
        _pod_logs(cmd, place.kube, place.target.namespace, label, per_pod, never_restarted)
    # Every line asked for is shown unless the sink answering cannot carry them all in one message.
    budget = registry.text_budget((reply_to or {}).get("sink"))
    return replies.logs_message(cmd.service, cmd.env, cmd.tail, per_pod, budget, previous=cmd.previous,
                                never_restarted=tuple(never_restarted), zone=_zone(reply_to),
                                locale=_locale(reply_to))


def _pod_logs(cmd: c.Logs, kube: Kube, namespace: str, label: str, per_pod: list, never_restarted: list) -> None:
    """Append one cluster's pods' logs (or why there are none) for /logs."""
    pods = _read(lambda: fetching.pods(kube, namespace, {"app": cmd.service}), namespace)
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        name = pod.metadata.name
        crash = fetching.last_crash(pod, cmd.service) if cmd.previous else None
        if cmd.previous and crash is None:
            never_restarted.append(label + name)
            continue
        try:
            text = kube.core.read_namespaced_pod_log(name, namespace, container=cmd.service,
                                                     tail_lines=cmd.tail, previous=cmd.previous, _request_timeout=10)
            per_pod.append(replies.PodLog(label + name, tuple(text.splitlines()) or ("(no output)",), crash))
        except ApiException as exc:
            per_pod.append(replies.PodLog(label + name, (f"(no logs: {api_errors.message(exc)})",), crash))
        except (HTTPError, OSError) as exc:
            per_pod.append(replies.PodLog(label + name, (f"(no logs: {exc.__class__.__name__})",), crash))


def config(cmd: c.Config, who: str = "", reply_to: dict | None = None) -> Message:
    """/config: the configuration's keys and sources; with a cluster, which ConfigMap keys exist and which
    configuration the running pods have. Reads ConfigMaps, never Secrets."""
    rt = runtime.get()
    target = Target.of(rt.rules, cmd.service, cmd.env)
    ns, wanted = target.namespace, target.config.configmaps
    present: dict[tuple[str, str], bool] | None = None
    running: dict | None = None
    now: str | None = None
    if rt.settings.kubeconfig is not None or rt.rules.catalog.clusters:
        # The environment's own clusters (not the catalog's first): a key counts as present only where
        # every cluster that answers has it, since a deploy there needs it on each.
        read = fanout.each(fanout.places(rt, cmd.service, cmd.env), lambda p: (
            _read(lambda: fetching.configmap_values(p.kube, ns, wanted), ns) if wanted else {},
            _read(lambda: fetching.deployment_summary(p.kube.apps, ns, cmd.service), ns)))
        answered = [o.value for o in read if o.error is None and o.value is not None]
        if not answered:
            raise read[0].error or PermanentError(NO_CLUSTER)
        present = {pair: all(values.get(pair) is not None for values, _ in answered) for pair in wanted}
        values = answered[0][0]
        if all(present.values()):
            now = render.config_checksum(target.config, {k: v for k, v in values.items() if v is not None})
        running = answered[0][1]
    return replies.config_message(cmd.service, target.service, cmd.env, present, running, now,
                                  _locale(reply_to))


def events(cmd: c.Events, who: str = "", reply_to: dict | None = None) -> Message:
    """/events: what the watcher kept, in the language and time zone of the channel that asked."""
    rt = runtime.get()
    service = rt.rules.service(cmd.service)
    # Every count of a busy event is a row: read enough rows that the window's distinct events all show.
    kept = incidents.recent_events(cmd.service, cmd.since_seconds, limit=2000)
    style = routing.style_for(rt.rules, reply_to or {}, routing.default_style(rt.settings))
    return event_messages.events_message(cmd.service, cmd.since_seconds, kept, level=cmd.level or "all",
                                         grep=cmd.grep or "", keeps_normal=service is not None and
                                         service.events == "all", locale=style.locale, zone=style.zone,
                                         budget=registry.text_budget((reply_to or {}).get("sink")))


def help(cmd: c.Help, who: str = "", reply_to: dict | None = None) -> Message:  # noqa: A001 - the verb's name
    return replies.help_message(cmd.topic)
