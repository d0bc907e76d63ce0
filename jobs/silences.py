"""Silences through Alertmanager's API v2: create from chat, list, expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests

from bots.commands import Silence, SilenceExpire, SilenceList
from bots.commands.silence import FINGERPRINT
from bots import silence_messages as say
from core import runtime
from core.errors import PermanentError, TemporaryError
from jobs.notify import deliver
from rules import routing
from state import holds

TIMEOUT = 10


def _api(method: str, path: str, **kwargs) -> requests.Response:
    base = runtime.get().settings.alertmanager_url
    if not base:
        raise PermanentError("Alertmanager is not configured: set ALERTMANAGER_URL")
    try:
        response = requests.request(method, f"{base.rstrip('/')}/api/v2{path}", timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise TemporaryError(f"Alertmanager did not answer: {exc.__class__.__name__}") from None
    if response.status_code >= 500:
        raise TemporaryError(f"Alertmanager answered {response.status_code}")
    if response.status_code >= 400:
        raise PermanentError(f"Alertmanager refused ({response.status_code}): {response.text.strip()[:200]}")
    return response


def _matchers(matcher: str) -> list[dict]:
    """An alertname, or a fingerprint turned into the labels of that exact alert."""
    if FINGERPRINT.match(matcher):
        for alert in _api("GET", "/alerts").json():
            if alert.get("fingerprint") == matcher:
                return [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                        for k, v in sorted(alert["labels"].items())]
        # Not an alert name either (nobody names alerts in 16 hex digits): silencing
        # alertname=<fingerprint> would answer "silenced" and silence nothing.
        raise PermanentError(f"no alert with fingerprint {matcher} in Alertmanager (resolved already?)")
    return [{"name": "alertname", "value": matcher, "isRegex": False, "isEqual": True}]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _zone(reply_to: dict) -> str:
    """The time zone of the channel that asked (its `timezone:`), else DOCKYARD_TIMEZONE."""
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, reply_to).zone


def _locale(reply_to: dict) -> str:
    """The language of the channel that asked (its `locale:`), else DOCKYARD_LOCALE."""
    rt = runtime.get()
    return routing.style_of(rt.rules, rt.settings, reply_to).locale


def create(matcher: str, duration_seconds: int, comment: str | None, who: str, reply_to: dict) -> str:
    now = datetime.now(timezone.utc)
    ends = now + timedelta(seconds=duration_seconds)
    if matcher in runtime.get().rules.catalog.services:  # a catalog service: Dockyard's own health messages

        holds.mute(runtime.get().redis, matcher, duration_seconds)
        deliver(reply_to, say.health_held(matcher, ends, _zone(reply_to), _locale(reply_to)))
        return f"mute:{matcher}"
    body = {"matchers": _matchers(matcher), "startsAt": _iso(now), "endsAt": _iso(ends), "createdBy": who,
            "comment": comment or f"silenced from chat by {who}"}
    silence_id = _api("POST", "/silences", json=body).json()["silenceID"]
    deliver(reply_to, say.silenced(matcher, ends, silence_id, who, _zone(reply_to), _locale(reply_to)))
    return silence_id


def listing(reply_to: dict) -> None:
    active = [s for s in _api("GET", "/silences").json() if s["status"]["state"] == "active"]
    deliver(reply_to, say.listing(active, _zone(reply_to), _locale(reply_to)))


def expire(silence_id: str, who: str, reply_to: dict) -> None:
    _api("DELETE", f"/silence/{silence_id}")
    deliver(reply_to, say.expired(silence_id, who, _locale(reply_to)))


def create_command(cmd: Silence, who: str, reply_to: dict) -> None:
    create(cmd.matcher, cmd.duration_seconds, cmd.comment, who, reply_to)


def listing_command(cmd: SilenceList, who: str, reply_to: dict) -> None:
    listing(reply_to)


def expire_command(cmd: SilenceExpire, who: str, reply_to: dict) -> None:
    expire(cmd.silence_id, who, reply_to)
