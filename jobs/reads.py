"""The jobs behind /status, /history, /logs, /events and /help: read, and answer with a message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from bots import commands as c
from bots import replies
from bots.message import Message
from bots.sinks import registry
from core import runtime
from core.errors import PermanentError
from deploy import api_errors, fetching, render
from deploy.kube import Kube, connect
from deploy.render import Target
from jobs import incidents

NO_CLUSTER = "no cluster configured: set KUBECONFIG (make run starts a local cluster)"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kube() -> Kube | None:
    rt = runtime.get()
    return connect(rt.settings.kubeconfig) if rt.settings.kubeconfig else None


def _read(what: Callable[[], object], namespace: str):
    """Run a read against the cluster, turning its errors into retry decisions."""
    with api_errors.translated(namespace):
        return what()


def status(cmd: c.Status, who: str = "", reply_to: dict | None = None) -> Message:
    rt = runtime.get()
    service = rt.rules.service(cmd.service)
    if service is None:
        raise PermanentError(f"service {cmd.service!r} is not in the catalog")
    envs = [cmd.env] if cmd.env else list(service.environments)
    kube = _kube()
    live: dict[str, dict | None] = {}
    if kube is not None:
        for env in envs:
            ns = service.environments[env].namespace
            if service.kind == "cronjob":  # a schedule and its runs, not replicas
                live[env] = _read(lambda: fetching.cron_job_summary(kube, ns, cmd.service), ns)
                continue
            stable = _read(lambda: fetching.deployment_summary(kube.apps, ns, cmd.service), ns)
            if stable is None:
                live[env] = None
                continue
            tracks = {t: _read(lambda t=t: fetching.deployment_summary(kube.apps, ns, render.workload_name(
                cmd.service, t)), ns) for t in ("canary", "preview")}
            pods = _read(lambda: fetching.pods(kube, ns, {"app": cmd.service}), ns)
            names = {p.metadata.name for p in pods}
            warnings = _read(lambda: fetching.warnings(kube, ns, names, limit=3), ns)
            live[env] = {**stable, "canary": tracks["canary"], "preview": tracks["preview"],
                         "router": service.router, "pods": [fetching.pod_summary(p) for p in pods],
                         "autoscale": _read(lambda: fetching.autoscaler_summary(kube, ns, cmd.service), ns),
                         "warnings": [f"{w.reason}: {w.involved_object.name}: {w.message}" for w in warnings]}
    return replies.status_message(cmd.service, service, live, envs, now=_now())


def history(cmd: c.History, who: str = "", reply_to: dict | None = None) -> Message:
    kube = _kube()
    if kube is None:
        raise PermanentError(NO_CLUSTER)
    target = Target.of(runtime.get().rules, cmd.service, cmd.env)
    revisions = _read(lambda: fetching.history(kube, target.namespace, cmd.service), target.namespace)
    return replies.history_message(cmd.service, cmd.env, revisions)


def logs(cmd: c.Logs, who: str = "", reply_to: dict | None = None) -> Message:
    kube = _kube()
    if kube is None:
        raise PermanentError(NO_CLUSTER)
    target = Target.of(runtime.get().rules, cmd.service, cmd.env)
    pods = _read(lambda: fetching.pods(kube, target.namespace, {"app": cmd.service}), target.namespace)
    per_pod: list[replies.PodLog] = []
    never_restarted: list[str] = []
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        name = pod.metadata.name
        crash = fetching.last_crash(pod, cmd.service) if cmd.previous else None
        if cmd.previous and crash is None:
            never_restarted.append(name)
            continue
        try:
            text = kube.core.read_namespaced_pod_log(name, target.namespace, container=cmd.service,
                                                     tail_lines=cmd.tail, previous=cmd.previous, _request_timeout=10)
            per_pod.append(replies.PodLog(name, tuple(text.splitlines()) or ("(no output)",), crash))
        except ApiException as exc:
            per_pod.append(replies.PodLog(name, (f"(no logs: {api_errors.message(exc)})",), crash))
        except (HTTPError, OSError) as exc:
            per_pod.append(replies.PodLog(name, (f"(no logs: {exc.__class__.__name__})",), crash))
    # Every line asked for is shown unless the sink answering cannot carry them all in one message.
    budget = registry.text_budget((reply_to or {}).get("sink"))
    return replies.logs_message(cmd.service, cmd.env, cmd.tail, per_pod, budget, previous=cmd.previous,
                                never_restarted=tuple(never_restarted))


def config(cmd: c.Config, who: str = "", reply_to: dict | None = None) -> Message:
    """/config: the configuration's keys and sources; with a cluster, which ConfigMap keys exist and which
    configuration the running pods have. Reads ConfigMaps, never Secrets."""
    target = Target.of(runtime.get().rules, cmd.service, cmd.env)
    kube, ns, wanted = _kube(), target.namespace, target.config.configmaps
    present: dict[tuple[str, str], bool] | None = None
    running: dict | None = None
    now: str | None = None
    if kube is not None:
        values = _read(lambda: fetching.configmap_values(kube, ns, wanted), ns) if wanted else {}
        present = {pair: value is not None for pair, value in values.items()}
        if all(present.values()):
            now = render.config_checksum(target.config, {k: v for k, v in values.items() if v is not None})
        running = _read(lambda: fetching.deployment_summary(kube.apps, ns, cmd.service), ns)
    return replies.config_message(cmd.service, target.service, cmd.env, present, running, now)


def events(cmd: c.Events, who: str = "", reply_to: dict | None = None) -> Message:
    kept = incidents.recent_events(cmd.service, cmd.since_seconds, limit=200)
    return replies.events_message(cmd.service, cmd.since_seconds, kept)


def help(cmd: c.Help, who: str = "", reply_to: dict | None = None) -> Message:  # noqa: A001 - the verb's name
    return replies.help_message(cmd.topic)
