"""Which channels an event goes to: routes in order, first match wins unless `stop: false`. Pure."""

from __future__ import annotations

from datetime import datetime, timezone

from rules.models import Rules
from rules.routing_model import Channel, QuietHours


def channels_for(rules: Rules, labels: dict[str, str]) -> list[str]:
    """Channel names for an event with these labels (team, service, severity, namespace, ...)."""
    chosen: list[str] = []
    for route in rules.routing.routes:
        if all(labels.get(key) == value for key, value in route.match.items()):
            chosen += [name for name in route.to if name not in chosen]
            if route.stop:
                return chosen
    if chosen:
        return chosen
    service = rules.catalog.services.get(labels.get("service", ""))
    if service is not None and service.channel:
        return [service.channel]
    team = rules.catalog.teams.get(labels.get("team", ""))
    if team is not None:
        return [team.channel]  # no route matched: the owning team hears it
    return list(rules.routing.default)


def target(channel: Channel) -> dict:
    """A sink address for a routing channel."""
    return channel.address


def targets_for(rules: Rules, labels: dict[str, str]) -> list[dict]:
    return [target(rules.routing.channels[name]) for name in channels_for(rules, labels)]


def service_labels(rules: Rules, service: str, **extra: str) -> dict[str, str]:
    """The labels of a catalog service: its name, team and, when it has one, its own channel."""
    svc = rules.catalog.services[service]
    return {"service": service, "team": svc.team, **extra}


def quiet_now(quiet: QuietHours | None, now: datetime) -> bool:
    """Is `now` (UTC) inside the quiet hours? Windows may wrap midnight (22:00–07:00)."""
    if quiet is None:
        return False
    clock = now.astimezone(timezone.utc).strftime("%H:%M")
    if quiet.start <= quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end


def split_quiet(rules: Rules, labels: dict[str, str], now: datetime | None = None) -> tuple[list[dict], list[str]]:
    """(targets to deliver to now, names of channels that must hold the message for their quiet hours)."""
    now = now or datetime.now(timezone.utc)
    deliver, hold = [], []
    for name in channels_for(rules, labels):
        channel = rules.routing.channels[name]
        quiet = channel.quiet_hours
        if quiet_now(quiet, now) and labels.get("severity") not in (quiet.let_through if quiet else []):
            hold.append(name)
        else:
            deliver.append(target(channel))
    return deliver, hold
