"""One chat message per job, edited in place as the job moves on, even across retries."""

from __future__ import annotations

from bots.message import Message
from bots.sinks import get_sink
from core import metrics, runtime

REF_TTL = 7 * 86400


class Progress:
    """Posts the first message, then updates the same one (the ref survives a worker crash in Redis)."""

    def __init__(self, reply_to: dict, key: str):
        self.reply_to = reply_to
        self.key = f"dockyard:progress:{key}"
        self.last: Message | None = None

    def show(self, message: Message) -> None:
        if message == self.last:
            return
        redis = runtime.get().redis
        sink_name = self.reply_to.get("sink", "console")
        sink = get_sink(sink_name)
        ref = redis.get(self.key)
        if ref is None:
            ref_text = sink.post(self.reply_to, message)
            redis.set(self.key, ref_text, ex=REF_TTL)
        else:
            sink.update(self.reply_to, ref.decode(), message)
        metrics.inc(redis, "dockyard_notifications_sent", sink=sink_name)
        self.last = message
