"""Which channels an event goes to: routes in order, first match wins unless `stop: false`. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from core.config import Settings
from rules.models import Rules
from rules.routing_model import Channel, QuietHours


@dataclass(frozen=True)
class Style:
    """How a channel reads its messages: language, time zone, and the prefix every title starts with."""

    locale: str = "en"
    zone: str = "UTC"
    prefix: str = ""


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


def default_style(settings: Settings) -> Style:
    """The settings' locale, time zone and prefix, for targets that are no configured channel."""
    return Style(locale=settings.locale, zone=settings.timezone, prefix=settings.message_prefix)


def channel_style(channel: Channel | None, default: Style) -> Style:
    """The channel's own locale, time zone and prefix, each falling back to `default` (the settings)."""
    if channel is None:
        return default
    return Style(locale=channel.locale or default.locale, zone=channel.timezone or default.zone,
                 prefix=default.prefix if channel.prefix is None else channel.prefix)


def channel_at(rules: Rules, target: dict) -> Channel | None:
    """The first configured channel whose address fields all equal the target's, else None.

    A reply goes to where a command came from ({sink: slack, channel: C0123, user: U1}); when that is
    a configured channel ({sink: slack, channel: C0123}) the reply reads as that channel's messages do.
    """
    for channel in rules.routing.channels.values():
        if all(target.get(key) == value for key, value in channel.address.items()):
            return channel
    return None


def style_for(rules: Rules, target: dict, default: Style) -> Style:
    """How messages to `target` read: its channel's style when it is one, else the defaults."""
    return channel_style(channel_at(rules, target), default)


def style_of(rules: Rules, settings: Settings, target: dict, channel: str | None = None) -> Style:
    """How messages to `target` read: the named channel's style, else that of the channel at the
    target's address (a reply), else the settings' (DOCKYARD_LOCALE, DOCKYARD_TIMEZONE, ...)."""
    default = default_style(settings)
    if channel in rules.routing.channels:
        return channel_style(rules.routing.channels[channel], default)
    return style_for(rules, target, default)


def box_prefix(rules: Rules, settings: Settings, sink: str, box: str) -> str:
    """The title prefix of an outbox's destination: `user:u1` is {user: u1}, a bare name a robot's."""
    key, _, value = box.partition(":") if ":" in box else ("robot", "", box)
    return style_of(rules, settings, {"sink": sink, key: value}).prefix


def named_targets_for(rules: Rules, labels: dict[str, str]) -> list[tuple[str, dict]]:
    """(channel name, sink address) for each channel an event goes to."""
    return [(name, target(rules.routing.channels[name])) for name in channels_for(rules, labels)]


def targets_for(rules: Rules, labels: dict[str, str]) -> list[dict]:
    return [target(rules.routing.channels[name]) for name in channels_for(rules, labels)]


def service_labels(rules: Rules, service: str, **extra: str) -> dict[str, str]:
    """The labels of a catalog service: its name, team and, when it has one, its own channel."""
    svc = rules.catalog.services[service]
    return {"service": service, "team": svc.team, **extra}


def quiet_now(quiet: QuietHours | None, now: datetime, zone: str | None = None) -> bool:
    """Is `now` inside the quiet hours, read in `zone` (the channel's `timezone:`, else UTC)?

    Windows may wrap midnight (22:00–07:00).
    """
    if quiet is None:
        return False
    clock = now.astimezone(ZoneInfo(zone) if zone else timezone.utc).strftime("%H:%M")
    if quiet.start <= quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end


def split_quiet(rules: Rules, labels: dict[str, str], now: datetime | None = None) -> tuple[list[dict], list[str]]:
    """(targets to deliver to now, names of channels that must hold the message for their quiet hours)."""
    deliver, hold = split_quiet_named(rules, labels, now)
    return [address for _, address in deliver], hold


def split_quiet_named(rules: Rules, labels: dict[str, str],
                      now: datetime | None = None) -> tuple[list[tuple[str, dict]], list[str]]:
    """split_quiet, each target with its channel's name (whose style the message is rendered in)."""
    now = now or datetime.now(timezone.utc)
    deliver, hold = [], []
    for name in channels_for(rules, labels):
        channel = rules.routing.channels[name]
        quiet = channel.quiet_hours
        let_through = quiet.let_through if quiet else []
        if quiet_now(quiet, now, channel.timezone) and labels.get("severity") not in let_through:
            hold.append(name)
        else:
            deliver.append((name, target(channel)))
    return deliver, hold
