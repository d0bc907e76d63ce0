"""Messages edited in place through the outbox, within the same quota. Knows no sink.

A destination that can edit (an app's card in a chat) gets a Dockyard-chosen ref for each post:
the post waits in the outbox carrying its ref, and an update of that ref waits beside it, in one
Redis hash per destination (ref -> the newest content), so of several waiting updates only the
latest is sent. Each ref has a state: WAITING while its post is in the outbox, the platform's
message id once it was sent alone, MERGED when a burst folded it into a digest (nothing of its
own to edit). A flush then:

- sends a waiting post with the newest content of its ref, so an update queued before its post
  went out is neither lost nor sent before it;
- edits a sent message with its newest content, one send of the quota each;
- posts anew what cannot be edited (merged, forgotten, or refused by the platform: a card too
  old to change), and the new message becomes the ref's, so nothing accepted is dropped.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from bots.message import Message

log = logging.getLogger("dockyard.outbox")

STATE_TTL = 14 * 86400  # the longest any platform lets a message be edited (Feishu: 14 days)
WAITING = "+"  # the ref's post waits in the outbox
MERGED = "-"  # the ref's post went out inside a digest: no message of its own
REF_FIELD = "ref"  # the key an outbox entry carries its ref under, beside the Message's own
# Delete an edit only if it is still the content that was sent: a newer one that arrived
# meanwhile stays for the next flush.
_DELETE_IF_SAME = ("if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then "
                   "return redis.call('hdel', KEYS[1], ARGV[1]) end return 0")


def new_ref(queued_prefix: str, box: str) -> str:
    """A ref for a post to an editable destination; its last part is unique (DingTalk's outTrackId)."""
    return f"{queued_prefix}{box}:{uuid.uuid4().hex}"


def state_key(sink: str, ref: str) -> str:
    return f"dockyard:{sink}:ref:{ref}"


def edits_key(sink: str, box: str) -> str:
    return f"dockyard:{sink}:edits:{box}"


def entry(message: Message, ref: str | None) -> str:
    """An outbox entry: the Message's dict, with the ref of an editable post beside it."""
    data = message.to_dict()
    if ref:
        data[REF_FIELD] = ref
    return json.dumps(data)


def parse(raw: bytes | str) -> tuple[Message, str | None]:
    data = json.loads(raw)
    return Message.from_dict(data), data.get(REF_FIELD)


def waiting(pipe, sink: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    """Mark a ref's post as waiting in the outbox (inside the caller's pipeline)."""
    pipe.set(state_key(sink, ref), WAITING, ex=STATE_TTL)


def queue_edit(redis: Redis, sink: str, box: str, ref: str, message: Message) -> None:
    """The newest content for `ref`; it replaces any update of the same ref still waiting."""
    pipe = redis.pipeline()
    pipe.hset(edits_key(sink, box), ref, json.dumps(message.to_dict()))
    pipe.expire(edits_key(sink, box), STATE_TTL)
    pipe.execute()


def newest(redis: Redis, sink: str, box: str) -> dict[str, bytes]:
    """ref -> newest waiting content. Read before the outbox: an edit's post is then surely in it or sent."""
    return {key.decode(): value for key, value in redis.hgetall(edits_key(sink, box)).items()}


def taken(redis: Redis, pipe, sink: str, box: str, ref: str, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    """Drop the edit of `ref` that was just sent, unless a newer one replaced it meanwhile."""
    redis.register_script(_DELETE_IF_SAME)(keys=[edits_key(sink, box)], args=[ref, raw], client=pipe)


def posted(redis: Redis, pipe, sink: str, box: str, refs: list[str | None], message_id: str | None,  # type: ignore[no-untyped-def]
           sent_newest: dict[str, bytes]) -> None:
    """After a post (alone, or a digest of several) was accepted: each ref's new state."""
    for ref in refs:
        if not ref:
            continue
        alone = len(refs) == 1 and message_id
        pipe.set(state_key(sink, ref), message_id if alone else MERGED, ex=STATE_TTL)
        if ref in sent_newest:
            taken(redis, pipe, sink, box, ref, sent_newest[ref])


@dataclass(frozen=True)
class Edited:
    sent: int  # edits the platform accepted (each one send of the quota)
    used: int  # slots of the quota used (accepted or refused)
    retry_after: float | None  # set when the platform said "too fast"


def flush(redis: Redis, quota, box: str, edit: Callable[[str, dict], dict], slots: int,  # type: ignore[no-untyped-def]
          record: Callable[[], None], requeue: Callable[[Message, str], None], content: dict[str, bytes]) -> Edited:
    """Send waiting edits (`content`: ref -> newest) of messages already sent, at most `slots` of them.

    `record()` notes one send against the quota; `requeue(message, ref)` puts a post back in the
    outbox for a ref that has no message to edit. Edits of refs whose post still waits are left:
    the post carries the newest content. Only the flush (one at a time per destination) takes a
    post out of the outbox, so a WAITING state read here stays true until this flush sends it.
    """
    sent = used = 0
    for ref, raw in content.items():
        if used >= slots:
            break
        state = redis.get(state_key(quota.sink, ref))
        state = state.decode() if state else None
        if state == WAITING:
            continue
        message = Message.from_dict(json.loads(raw))
        if state is None or state == MERGED:  # nothing of its own to edit: it arrives as a new message
            _requeue(redis, quota, box, ref, raw, message, requeue)
            continue
        answer = edit(state, quota.render(message))
        code = quota.error(answer)
        used += 1
        record()
        if code in quota.too_fast:
            return Edited(sent, used, quota.backoff)
        if code != 0:
            log.warning("%s %s refused an edit (%s %s): posting it as a new message", quota.sink, box, code,
                        str(answer.get("errmsg") or answer.get("msg") or answer.get("message") or "")[:200])
            _requeue(redis, quota, box, ref, raw, message, requeue)
            continue
        pipe = redis.pipeline()
        pipe.set(state_key(quota.sink, ref), quota.message_id(answer) or state, ex=STATE_TTL)
        taken(redis, pipe, quota.sink, box, ref, raw)
        pipe.execute()
        sent += 1
    return Edited(sent, used, None)


def _requeue(redis: Redis, quota, box: str, ref: str, raw: bytes, message: Message,  # type: ignore[no-untyped-def]
             requeue: Callable[[Message, str], None]) -> None:
    requeue(message, ref)
    pipe = redis.pipeline()
    taken(redis, pipe, quota.sink, box, ref, raw)
    pipe.execute()
