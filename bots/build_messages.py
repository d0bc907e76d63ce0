"""What a team reads about a build: who, which commit, which image, how long, and why it failed. Pure."""

from __future__ import annotations

from bots.i18n import DEFAULT_LOCALE, say
from bots.message import Message


def facts(user: str, sha: str, ref: str, image: str, seconds: float, own_dockerfile: bool,
          language: str, locale: str = DEFAULT_LOCALE) -> tuple[tuple[str, str], ...]:
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    return ((say(locale, "who"), user), (say(locale, "commit"), sha[:8]),
            (say(locale, "branch" if ref.startswith("refs/heads/") else "tag"), name),
            (say(locale, "image"), image), (say(locale, "duration"), say(locale, "{seconds}s", seconds=f"{seconds:.0f}")),
            ("Dockerfile", say(locale, "the repository's") if own_dockerfile
             else say(locale, "{language} template", language=language)))


def failed(service: str, sha: str, facts: tuple[tuple[str, str], ...], why: str, log_lines: list[str],
           locale: str = DEFAULT_LOCALE) -> Message:
    return Message(title=say(locale, "{service} build failed at {sha}", service=service, sha=sha[:8]), severity="error",
                   fields=facts, lines=(say(locale, "why: {detail}", detail=why), say(locale, "last log lines:"),
                                        *log_lines))


def built(service: str, tag: str, facts: tuple[tuple[str, str], ...], rollout_job: str | None,
          env: str = "test", locale: str = DEFAULT_LOCALE) -> Message:
    lines = (say(locale, "{env} rollout queued (job {job}): /status {service} in {env} follows it", env=env,
                 job=rollout_job, service=service),) if rollout_job else ()
    return Message(title=say(locale, "{service} built {tag}", service=service, tag=tag), severity="success",
                   fields=facts, lines=lines)
