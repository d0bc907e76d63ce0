"""The promotion rule at run time: an environment takes only images that passed the one before it.

The catalog's `environments:` give the order; the first environment takes any
image. An SRE's `--break-glass <reason>` overrides the rule, and the override
is written to the audit trail with the reason.
"""

from __future__ import annotations

from core import audit, runtime
from core.errors import PermanentError
from state import images


def admit(service: str, env: str, tag: str, break_glass: str | None, who: str, reply_to: dict) -> None:
    """Refuse `tag` in `env` unless it passed the environment before; with break glass, audit the override."""
    rt = runtime.get()
    unproven = images.unproven(rt.redis, rt.rules, service, env, tag)
    if unproven is None:
        return
    if not break_glass:
        raise PermanentError(unproven)
    before = rt.rules.catalog.previous_environment(service, env)
    audit.record(rt.redis, audit.Entry(who, reply_to.get("sink", "?"),
                                       f"break glass: {break_glass} ({service}:{tag} to {env}, never run in {before})",
                                       service, "break-glass"))


def passed(service: str, env: str, image: str) -> None:
    """A rollout of `image` finished healthy in `env`: the environment after it may now take the tag."""
    images.mark_passed(runtime.get().redis, service, env, image.rsplit(":", 1)[-1])
