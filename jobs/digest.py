"""The daily digest per team, enqueued by the scheduler's leader once a day at DOCKYARD_DIGEST_AT."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from bots.digest_messages import TeamDay, digest
from core import audit, runtime
from jobs.notify import deliver
from rules import routing
from state import locks

DAY = 86400
ALERT_SERVICE = re.compile(r'service="([^"]+)"')


def collect(now: float | None = None) -> dict[str, TeamDay]:
    """Read the last day from the audit trail, the incidents, and what is open now."""
    rt = runtime.get()
    now = now or time.time()
    team_of = {name: svc.team for name, svc in rt.rules.catalog.services.items()}
    days = {team: TeamDay(team) for team in rt.rules.catalog.teams}

    def add(service: str, part: str, text: str) -> None:
        team = team_of.get(service)
        if team in days:
            getattr(days[team], part).append(text)

    for entry in audit.since(rt.redis, DAY, limit=100_000):
        if entry.time < now - DAY:
            continue
        if entry.result == "accepted" and entry.command.startswith("/deploy") and \
                entry.command.split()[2:3] not in (["promote"], ["abort"], ["pause"], ["resume"]):
            add(entry.target, "deploys", f"{entry.command[8:]} by {entry.who}")
        elif entry.result == "accepted" and entry.command.startswith("/rollback"):
            add(entry.target, "rollbacks", f"{entry.command[10:]} by {entry.who}")
        elif entry.result in ("approved", "rejected"):
            add(entry.target, "approvals", f"{entry.command.split()[-1] if entry.command else ''} {entry.result} "
                                           f"by {entry.who}")
        elif entry.channel == "alertmanager" and (match := ALERT_SERVICE.search(entry.command)):
            add(match.group(1), "alerts", entry.command.split(" ", 1)[0] + " " + match.group(1))
    for key in rt.redis.scan_iter("dockyard:incident:*"):
        incident = json.loads(rt.redis.get(key) or "null")
        if not incident:
            continue
        where = f"{incident['service']} ({incident['env']}) {incident['reason']}"
        if incident.get("first", 0) >= now - DAY:
            add(incident["service"], "incidents", f"{where} ×{incident.get('count', 1)}")
        if incident.get("status") == "open":
            add(incident["service"], "open", f"incident {where}")
    for key in rt.redis.scan_iter("dockyard:lock:*"):
        _, _, service, env = key.decode().split(":", 3)
        holder = locks.holder(rt.redis, service, env)
        if holder and holder.kind in ("canary", "preview"):
            add(service, "open", f"{holder.kind} of {service} ({env}) by {holder.user}")
    for key in rt.redis.scan_iter("dockyard:approval:*"):
        record = rt.redis.hgetall(key)
        if record.get(b"status") == b"pending":
            add(record[b"service"].decode(), "open",
                f"approval {record[b'id'].decode()} for {record[b'service'].decode()} ({record[b'env'].decode()})")
    return days


def daily(date: str | None = None) -> int:
    """RQ job: one digest per team, to the team's channel."""
    rt = runtime.get()
    date = date or datetime.now(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d")
    sent = 0
    for team, day in collect().items():
        for target in routing.targets_for(rt.rules, {"team": team, "kind": "digest"}):
            locale = routing.style_of(rt.rules, rt.settings, target).locale
            deliver(target, digest(day, date, locale), dedupe_key=f"digest:{date}:{team}:{json.dumps(target)}")
            sent += 1
    return sent
