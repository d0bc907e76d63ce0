"""Canary plans: the weight moves step by step, each step only after the catalog's analysis passes.

The first step is an ordinary canary deploy; every later step is a schedule
(state/schedules.py) the scheduler process fires as an RQ job. A step carries
the plan's position, so a retried or duplicated step finds the plan moved on
and does nothing.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict

from rq import get_current_job

from bots import rollout_messages as say
from bots.commands import Deploy, PlanStep
from core import durations, runtime
from core.errors import PermanentError
from deploy import analysis
from jobs import rollout
from jobs.notify import show
from rules import routing
from state import freezes, plans, schedules
from state.plans import Plan

RESUME_AFTER = 5  # seconds: a resumed plan analyses the weight that stayed live while it was paused


def _settings(service_name: str):
    rt = runtime.get()
    service = rt.rules.catalog.services[service_name]
    if service.analysis is None:
        raise PermanentError(f"{service_name} has no `analysis:` in the catalog; a canary plan needs its checks "
                             f"(or use /deploy {service_name} <tag> canary <N>%)")
    if not rt.settings.prometheus_url:
        raise PermanentError("canary plans ask Prometheus: set PROMETHEUS_URL")
    return service


def _show(plan: Plan) -> Plan:
    """Post or edit the plan's one message where it was asked."""
    limit = runtime.get().rules.catalog.services[plan.service].analysis.failure_limit  # type: ignore[union-attr]
    locale = routing.style_of(runtime.get().rules, runtime.get().settings, plan.reply_to).locale
    return plan.with_(ref=show(plan.reply_to, say.plan(plan, limit, locale), plan.ref))


def _next(plan: Plan, delay: float) -> None:
    """Schedule the plan's next step (idempotent: the same position gives the same schedule)."""
    rt = runtime.get()
    step = PlanStep(service=plan.service, env=plan.env, plan_id=plan.id, index=plan.index, failures=plan.failures)
    ident = "s" + hashlib.sha1(f"{plan.id}:{plan.index}:{plan.failures}:{plan.status}".encode()).hexdigest()[:6]
    schedules.add(rt.redis, time.time() + delay, step.to_dict(),
                  f"canary plan {plan.service} ({plan.env}): analysis before {plan.steps[min(plan.index + 1, len(plan.steps) - 1)]}%",
                  plan.who, plan.reply_to, schedule_id=ident)


def start(cmd: Deploy, who: str, reply_to: dict) -> None:
    """The first weight goes live now; the rest follow the analysis."""
    service = _settings(cmd.service)
    steps, every = cmd.steps, cmd.every_seconds
    if cmd.catalog_plan:
        if service.canary_plan is None:
            raise PermanentError(f"{cmd.service} has no `canary_plan:` in the catalog; give the steps: "
                                 f"/deploy {cmd.service} <tag> canary 10,30,60% every 10m")
        steps, every = tuple(service.canary_plan.steps), durations.to_seconds(service.canary_plan.every) or 600
    rollout.deploy(cmd.service, cmd.env, cmd.tag, "canary", steps[0], who, reply_to)
    job = get_current_job()
    plan = Plan(id=job.id if job else f"plan-{time.time_ns()}", service=cmd.service, env=cmd.env,
                image_tag=cmd.tag, steps=tuple(steps), every_seconds=every, who=who, reply_to=reply_to,
                history=(f"{steps[0]}% live",))
    plan = _show(plan)
    plans.save(runtime.get().redis, plan)
    _next(plan, every)


def _finish(plan: Plan, status: str, line: str) -> None:
    rt = runtime.get()
    step = "promote" if status == "promoted" else "abort"
    rollout.control(plan.service, plan.env, step, f"{plan.who} (canary plan)", plan.reply_to)
    done = _show(plan.with_(status=status, history=plan.history + (line,)))
    plans.save(rt.redis, done)


def step_command(cmd: PlanStep, who: str, reply_to: dict) -> None:
    rt = runtime.get()
    plan = plans.load(rt.redis, cmd.service, cmd.env)
    if plan is None or plan.id != cmd.plan_id or plan.status != "running" or \
            (plan.index, plan.failures) != (cmd.index, cmd.failures):
        return  # cancelled, finished, paused or already past this step
    freeze = freezes.active(rt.redis, rt.rules, plan.env, zone=rt.settings.timezone)
    if freeze is not None:  # hold the weight where it is; /deploy <svc> resume once the freeze ends
        plans.save(rt.redis, _show(plan.with_(status="paused", history=plan.history + (
            f"paused: {plan.env} is frozen by {freeze.by} ({freeze.reason})",))))
        return
    service = _settings(plan.service)
    readings = analysis.run(rt.settings.prometheus_url or "", service.analysis, plan.service,  # type: ignore[arg-type]
                            service.environments[plan.env].namespace, plan.env)
    plan = plan.with_(readings=tuple(asdict(r) for r in readings))
    limit = service.analysis.failure_limit  # type: ignore[union-attr]
    if not all(r.ok for r in readings):
        failed = ", ".join(f"{r.name} {'no data' if r.value is None else format(r.value, '.4g')}"
                           for r in readings if not r.ok)
        plan = plan.with_(failures=plan.failures + 1,
                          history=plan.history + (f"analysis failed at {plan.steps[plan.index]}%: {failed}",))
        if plan.failures >= limit:
            _finish(plan, "aborted", f"aborted after {plan.failures} failed analyses in a row")
            return
        plan = _show(plan)
        plans.save(rt.redis, plan)
        _next(plan, plan.every_seconds)
        return
    if plan.index + 1 >= len(plan.steps):
        _finish(plan.with_(failures=0), "promoted", f"analysis passed at {plan.steps[plan.index]}%: promoted")
        return
    weight = plan.steps[plan.index + 1]
    rollout.deploy(plan.service, plan.env, None, "canary", weight, f"{plan.who} (canary plan)", plan.reply_to)
    plan = _show(plan.with_(index=plan.index + 1, failures=0,
                            history=plan.history + (f"analysis passed: {weight}% live",)))
    plans.save(rt.redis, plan)
    _next(plan, plan.every_seconds)


def pause(service: str, env: str, who: str) -> None:
    rt = runtime.get()
    plan = plans.load(rt.redis, service, env)
    if plan is None or plan.status != "running":
        raise PermanentError(f"{service} ({env}) has no running canary plan to pause")
    plans.save(rt.redis, _show(plan.with_(status="paused", history=plan.history + (f"paused by {who}",))))


def resume(service: str, env: str, who: str) -> None:
    rt = runtime.get()
    plan = plans.load(rt.redis, service, env)
    if plan is None or plan.status != "paused":
        raise PermanentError(f"{service} ({env}) has no paused canary plan to resume")
    plan = _show(plan.with_(status="running", history=plan.history + (f"resumed by {who}",)))
    plans.save(rt.redis, plan)
    _next(plan, RESUME_AFTER)


def ended(service: str, env: str, step: str, who: str) -> None:
    """A person promoted or aborted the canary: its plan, if one ran, ends with it."""
    rt = runtime.get()
    plan = plans.load(rt.redis, service, env)
    if plan is None or plan.status not in ("running", "paused"):
        return
    status = "promoted" if step == "promote" else "aborted"
    plans.save(rt.redis, _show(plan.with_(status=status, history=plan.history + (f"{step} by {who}",))))


def remind_stale(service: str, env: str, track: str, since: float, who: str) -> str:
    """RQ job (the scheduler's): the team hears that a canary or preview is still live, with Promote and Abort."""
    rt = runtime.get()
    age = time.time() - since
    for target in routing.targets_for(rt.rules, routing.service_labels(rt.rules, service, env=env, kind="reminder")):
        show(target, say.stale(service, env, track, age, who, routing.style_of(rt.rules, rt.settings, target).locale))
    return "told"
