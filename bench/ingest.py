"""Webhook ingest: Dockyard's /webhooks/gitlab and /webhooks/alertmanager against the obvious handler and
the bare ceilings, each under gunicorn (2 gthread workers, gunicorn.conf.py), driven by wrk (16
connections) with a distinct delivery per request, all on the same Redis in the same run.

No worker runs meanwhile (the jobs pile up and are dropped afterwards), so the figure is the web
process and Redis alone. All the servers run at once and are driven in turn, in ROUNDS rounds of a
share of the time each (the order rotating), so load from anything else on the machine falls on
every target alike rather than on whichever was measured while it lasted. Every request must be accepted: wrk's non-2xx count and the jobs actually
queued are checked, because a bench that measures refusals measures the wrong thing."""

from __future__ import annotations

from bench import procs, wrk
from bench.baselines import BARE_LIST, OBVIOUS_QUEUE
from bench.report import Figure
from bench.stack import ALERTMANAGER_TOKEN, GITLAB_TOKEN, Stack

SECTION = "ingest"


def _headers(kind: str) -> dict[str, str]:
    if kind == "gitlab":
        return {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": GITLAB_TOKEN,
                "X-Gitlab-Event-UUID": "__UNIQUE__"}
    return {"Content-Type": "application/json", "Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}


def _queued(stack: Stack, target: str, kind: str) -> int:
    """What the target made durable: jobs in its queue, or entries in the bare list."""
    key = {"dockyard": f"rq:queue:{'builds' if kind == 'gitlab' else 'notify'}",
           "obvious": f"rq:queue:{OBVIOUS_QUEUE}"}.get(target, BARE_LIST)
    return int(stack.redis.llen(key))


ROUNDS = 3


def _drive(stack: Stack, target: str, base: str, kind: str, seconds: float) -> wrk.Result:
    body = wrk.gitlab_body() if kind == "gitlab" else wrk.alertmanager_body()
    lua = wrk.script(f"/webhooks/{kind}", body, _headers(kind))
    stack.clear_queues()
    result = wrk.run(base, lua, stack.dir, seconds)
    accepted = _queued(stack, target, kind)
    # wrk counts answers; requests cut off at the end may still have been queued, so at least as many
    if result.non2xx or result.socket_errors or accepted < result.requests:
        raise RuntimeError(f"{target} {kind}: {result.non2xx} non-2xx answers, {result.socket_errors} socket errors, "
                           f"{accepted} of {result.requests} requests queued; see {stack.logs}")
    stack.clear_queues()
    return result


def _combined(rounds: list[wrk.Result]) -> wrk.Result:
    """The rounds as one: all requests over all the time; the middle round's p50, the worst p99."""
    p50s = sorted(r.p50_ms for r in rounds)
    return wrk.Result(requests=sum(r.requests for r in rounds), seconds=sum(r.seconds for r in rounds),
                      non2xx=0, socket_errors=0, p50_ms=p50s[len(p50s) // 2], p99_ms=max(r.p99_ms for r in rounds))


def run(stack: Stack, seconds: float = 10.0) -> list[Figure]:
    env = stack.env()
    urls = {"dockyard": stack.web()}
    procs_started = []
    try:
        for target, app in (("obvious", "bench.baselines:obvious()"),
                            ("bare Flask LPUSH", "bench.baselines:bare_flask()"),
                            ("bare WSGI LPUSH", "bench.baselines:bare_wsgi()")):
            proc, urls[target] = procs.gunicorn(app, env, stack.logs / f"{target.replace(' ', '-')}.log")
            procs_started.append(proc)
        runs = [(target, kind) for target in ("dockyard", "obvious") for kind in ("gitlab", "alertmanager")]
        runs += [("bare Flask LPUSH", "gitlab"), ("bare WSGI LPUSH", "gitlab")]
        for target, kind in runs:  # warm up: connections, imports, Redis pools, script cache
            _drive(stack, target, urls[target], kind, min(2.0, seconds))
        measured: dict[tuple[str, str], list[wrk.Result]] = {key: [] for key in runs}
        share = max(1, round(seconds / ROUNDS))  # wrk takes whole seconds
        for round_ in range(ROUNDS):
            for target, kind in runs[round_:] + runs[:round_]:
                measured[target, kind].append(_drive(stack, target, urls[target], kind, share))
    finally:
        for proc in procs_started:
            procs.stop(proc)
    results = {key: _combined(rounds) for key, rounds in measured.items()}

    def row(target: str, kind: str, **more) -> Figure:
        r = results[target, kind]
        return Figure(SECTION, f"{target} /webhooks/{kind}" if target in ("dockyard", "obvious") else target,
                      r.rate, "req/s", p50=r.p50_ms, p99=r.p99_ms, n=r.requests, **more)

    ceiling = results["bare Flask LPUSH", "gitlab"]
    figures = [row("bare WSGI LPUSH", "gitlab", note="the ceiling of WSGI + gunicorn + Redis here"),
               row("bare Flask LPUSH", "gitlab")]
    for kind in ("gitlab", "alertmanager"):
        obvious = results["obvious", kind]
        dockyard = row("dockyard", kind, baseline="obvious", baseline_value=obvious.rate, goal="≥ 1.5× obvious")
        dockyard.met = dockyard.ratio is not None and dockyard.ratio >= 1.5
        figures += [row("obvious", kind), dockyard,
                    Figure(SECTION, f"dockyard /webhooks/{kind} vs ceiling", dockyard.value, "req/s",
                           baseline="bare Flask LPUSH", baseline_value=ceiling.rate, goal="≥ 0.9× LPUSH",
                           met=dockyard.value >= 0.9 * ceiling.rate)]
    return figures
