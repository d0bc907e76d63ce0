"""What a team reads about a build: who, which commit, which image, how long, and why it failed. Pure."""

from __future__ import annotations

from bots.message import Message


def facts(user: str, sha: str, ref: str, image: str, seconds: float, own_dockerfile: bool,
          language: str) -> tuple[tuple[str, str], ...]:
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    return (("who", user), ("commit", sha[:8]), ("branch" if ref.startswith("refs/heads/") else "tag", name),
            ("image", image), ("duration", f"{seconds:.0f}s"),
            ("Dockerfile", "the repository's" if own_dockerfile else f"{language} template"))


def failed(service: str, sha: str, facts: tuple[tuple[str, str], ...], why: str, log_lines: list[str]) -> Message:
    return Message(title=f"{service} build failed at {sha[:8]}", severity="error", fields=facts,
                   lines=(f"why: {why}", "last log lines:", *log_lines))


def built(service: str, tag: str, facts: tuple[tuple[str, str], ...], rollout_job: str | None,
          env: str = "test") -> Message:
    lines = (f"{env} rollout queued (job {rollout_job}): /status {service} in {env} follows it",) if rollout_job else ()
    return Message(title=f"{service} built {tag}", severity="success", fields=facts, lines=lines)
