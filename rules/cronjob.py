"""Catalog services that run on a schedule (`kind: cronjob`): checks of their fields. Pure.

A cronjob service is built and deployed like any other, but becomes a batch/v1
CronJob instead of a Deployment: no replicas, no Service, no traffic, so no
canary or preview. The schedule is checked here as the CronJob controller would
read it (five fields, or a macro such as @daily), so a typo stops start-up with
the line instead of surfacing as a CronJob the apiserver refuses at deploy time.
"""

from __future__ import annotations

import re

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# minute, hour, day of month, month, day of week: (name, lowest, highest, names accepted)
FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
          ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
          ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")))
ITEM = re.compile(r"^(?P<base>\*|\?|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>\d+))?$")
# Fields that only mean something for one kind, to refuse where they would be silently ignored.
CRONJOB_ONLY = ("schedule", "concurrency_policy", "starting_deadline_seconds", "successful_jobs_history_limit",
                "failed_jobs_history_limit")
DEPLOYMENT_ONLY = ("router", "host")
EXAMPLE = "like '30 2 * * *' (02:30 every day) or '@hourly'"


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text in names:
        return names.index(text) + (1 if low == 1 else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(text)
    return int(text)


def check_schedule(schedule: str) -> str:
    """The schedule if the CronJob controller can read it; ValueError saying which field is wrong."""
    text = schedule.strip().lower()
    if text in MACROS:
        return schedule
    if text.startswith(("tz=", "cron_tz=")):
        raise ValueError(f"schedule {schedule!r}: a time zone cannot go in the schedule; schedules run in UTC")
    parts = text.split()
    if len(parts) != len(FIELDS):
        raise ValueError(f"schedule {schedule!r} has {len(parts)} field(s), not 5 (minute hour day month weekday): "
                         f"write it {EXAMPLE}")
    for part, (name, low, high, names) in zip(parts, FIELDS):
        for item in part.split(","):
            match = ITEM.match(item)
            try:
                if match is None or (match["step"] is not None and int(match["step"]) == 0):
                    raise ValueError(item)
                base = match["base"]
                if base == "?" and name not in ("day of month", "day of week"):
                    raise ValueError(item)
                if base not in ("*", "?"):
                    ends = [_value(v, low, high, names) for v in base.split("-")]
                    if ends != sorted(ends):
                        raise ValueError(item)
            except ValueError:
                raise ValueError(f"schedule {schedule!r}: {name} {item!r} is not a value {low}–{high}, a range, "
                                 f"a list or a step: write it {EXAMPLE}") from None
    return schedule


def check_kind(kind: str, schedule: str | None, fields_set: set[str]) -> None:
    """ValueError when a field is missing for the kind or would be ignored by it."""
    if kind == "cronjob":
        if schedule is None:
            raise ValueError(f"a kind: cronjob service needs a schedule, {EXAMPLE}")
        ignored = sorted(set(DEPLOYMENT_ONLY) & fields_set)
        if ignored:
            raise ValueError(f"{ignored[0]} is for services that take traffic; a cronjob has none: remove it")
        return
    named = [name for name in CRONJOB_ONLY if name in fields_set]
    if named:
        one = len(named) == 1
        raise ValueError(f"{', '.join(named)} {'is' if one else 'are'} for scheduled jobs: add kind: cronjob, "
                         f"or remove {'it' if one else 'them'}")


# What a scheduled job cannot do, by the chat word asking for it, and why: each reason says what to do instead.
CANNOT = {
    "canary": "a scheduled job takes no traffic, so there is none to split: /deploy {svc} <tag> sets the image "
              "the next run uses",
    "preview": "a scheduled job takes no traffic, so nobody could reach a preview: /deploy {svc} <tag> sets the "
               "image the next run uses",
    "promote": "a scheduled job has no canary or preview to promote",
    "abort": "a scheduled job has no canary or preview to abort",
    "scale": "a scheduled job runs one pod per run; it has no replicas to scale",
    "autoscale": "a scheduled job runs one pod per run; it has no replicas to autoscale",
    "restart": "a scheduled job has no pods that keep running; its next run starts on its schedule",
    "rollback": "a scheduled job keeps no revisions to go back to: /deploy {svc} <earlier tag>",
}


def refusal(service: str, action: str) -> str | None:
    """Why `action` (canary, preview, scale, ...) makes no sense for the scheduled job `service`, or None."""
    reason = CANNOT.get(action)
    return f"{service} is a scheduled job (kind: cronjob): {reason.format(svc=service)}" if reason else None
