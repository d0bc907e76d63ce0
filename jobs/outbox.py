"""Drain one destination's outbox within its platform's quota; reschedule what must wait.

Each sink that uses the shared outbox has a `delivery` module beside its sink: quota(box) says
how the destination may be sent to, send(rt, box, payload) posts one payload.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import replace

from bots.sinks import outbox
from bots.sinks.registry import SINKS
from core import runtime
from rules import routing

log = logging.getLogger("dockyard.outbox")


def flush(sink: str, box: str) -> dict:
    """RQ job: send what the quota allows, merge bursts into digests, come back for the rest."""
    rt = runtime.get()
    redis = rt.redis
    redis.delete(outbox.pending_key(sink, box))
    delivery = importlib.import_module(f"{SINKS[sink]}.delivery")
    lock = redis.lock(f"dockyard:{sink}:flush-lock:{box}", timeout=60, blocking_timeout=30)
    if not lock.acquire():
        outbox.schedule_flush(redis, rt.settings, sink, box, delay=5)
        return {"sink": sink, "box": box, "skipped": "another flush is running"}
    # Digests carry the destination's prefix like every message does (a keyword-secured robot needs it).
    quota = replace(delivery.quota(box), prefix=routing.box_prefix(rt.rules, rt.settings, sink, box))
    try:
        def send(payload: dict, ref: str | None = None) -> dict:
            answer = delivery.send(rt, box, payload, ref) if ref else delivery.send(rt, box, payload)
            code = quota.error(answer)
            if code:
                log.warning("%s %s answered %s %s%s", sink, box, code,
                            str(answer.get("errmsg") or answer.get("msg") or "")[:200],
                            " (too fast: backing off)" if code in quota.too_fast else "")
            return answer  # outbox.flush counts what was sent and what was refused

        # Where the destination can edit its messages, the delivery module says how (bots/sinks/edits.py).
        editable = getattr(delivery, "editable", lambda box: False)(box)
        edit = (lambda message_id, payload: delivery.edit(rt, box, message_id, payload)) if editable else None
        result = outbox.flush(redis, quota, box, send, edit=edit)
    finally:
        lock.release()
    if result.waiting:
        outbox.schedule_flush(redis, rt.settings, sink, box, delay=result.retry_after)
    return {"sink": sink, "box": box, "sent": result.sent, "events": result.events, "waiting": result.waiting}
