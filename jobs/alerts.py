"""One chat message per alert group, wherever the labels route it, updated as alerts fire and resolve."""

from __future__ import annotations

import hashlib
import json

from bots.alert_messages import AlertGroup, render
from bots.message import Message
from core import runtime
from jobs import held
from jobs.notify import show
from rules import ownership, routing

REF_TTL = 7 * 86400


def notify(group: dict) -> list[str]:
    """RQ job: post the group's message, or update the one posted for the same groupKey."""
    rt = runtime.get()
    alerts = AlertGroup.from_dict(group)
    default = routing.default_style(rt.settings)

    def message(name: str) -> Message:  # each channel reads the group in its own language and time zone
        style = routing.channel_style(rt.rules.routing.channels[name], default)
        return render(alerts, style.locale, style.zone)

    key = f"dockyard:alertgroup:{hashlib.sha1(alerts.group_key.encode()).hexdigest()}"
    refs = []
    # Two notifications of one group must not both post: serialise per group.
    with rt.redis.lock(f"{key}:lock", timeout=60, blocking_timeout=30):
        # Alerts rarely say whose they are: the catalog's owner of the service or pod named routes them.
        labels = ownership.routing_labels(rt.rules.catalog, alerts.labels)
        targets, quiet = routing.split_quiet_named(rt.rules, labels)
        for name in quiet:
            held.hold(name, message(name))
        for name, target in targets:
            field = json.dumps(target, sort_keys=True)
            ref = rt.redis.hget(key, field)
            new_ref = show(target, message(name), ref.decode() if ref else None)
            rt.redis.hset(key, field, new_ref)
            rt.redis.expire(key, REF_TTL)
            refs.append(new_ref)
    return refs
