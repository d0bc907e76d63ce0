"""One chat message per job, edited in place as the job moves on, even across retries."""

from __future__ import annotations

from bots.message import Message
from core import runtime
from jobs import notify

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
        ref = redis.get(self.key)
        new_ref = notify.show(self.reply_to, message, ref.decode() if ref else None)
        if ref is None:
            redis.set(self.key, new_ref, ex=REF_TTL)
        self.last = message
