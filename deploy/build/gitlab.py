"""GitLab's API through python-gitlab: commit statuses, tags, files. The one module that knows it."""

from __future__ import annotations

import logging
from functools import lru_cache

import gitlab
from gitlab.exceptions import GitlabError, GitlabGetError

from core import runtime
from core.errors import PermanentError, TemporaryError

log = logging.getLogger("dockyard.gitlab")
STATUS_NAME = "dockyard/build"


@lru_cache(maxsize=4)
def _client(url: str, token: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(url, private_token=token, timeout=10)


def client() -> gitlab.Gitlab:
    settings = runtime.get().settings
    if not settings.gitlab_url or settings.gitlab_token is None:
        raise PermanentError("GitLab is not configured: set GITLAB_URL and GITLAB_TOKEN")
    return _client(settings.gitlab_url, settings.gitlab_token.get_secret_value())


def _call(what: str, fn):
    try:
        return fn()
    except GitlabError as exc:
        code = getattr(exc, "response_code", None) or 0
        if code >= 500 or code == 429 or code == 0:
            raise TemporaryError(f"GitLab {what} failed ({code or 'no answer'}): {exc.error_message}") from None
        raise PermanentError(f"GitLab {what} refused ({code}): {exc.error_message}") from None


def project(path: str):
    return _call(f"project {path}", lambda: client().projects.get(path))


def set_status(path: str, sha: str, state: str, description: str, target_url: str | None = None) -> None:
    """Commit status `dockyard/build`; a failure here is logged, never fails the build."""
    body = {"state": state, "name": STATUS_NAME, "description": description[:255]}
    if target_url:
        body["target_url"] = target_url
    try:
        _call("commit status", lambda: project(path).commits.get(sha, lazy=True).statuses.create(body))
    except (PermanentError, TemporaryError) as exc:
        log.warning("could not set %s on %s@%s: %s", state, path, sha[:8], exc)


def has_file(path: str, file_path: str, ref: str) -> bool:
    try:
        project(path).files.get(file_path=file_path, ref=ref)
    except GitlabGetError as exc:
        if exc.response_code == 404:
            return False
        raise TemporaryError(f"GitLab file lookup failed ({exc.response_code})") from None
    return True


def create_tag(path: str, tag: str, sha: str, message: str) -> None:
    """Tag the commit; an existing identical tag (a retried job) is fine."""
    try:
        project(path).tags.create({"tag_name": tag, "ref": sha, "message": message})
    except GitlabError as exc:
        if getattr(exc, "response_code", 0) == 400 and "already exists" in str(exc.error_message):
            return
        raise TemporaryError(f"GitLab tag {tag} failed: {exc.error_message}") from None


def resolve(path: str, ref: str) -> tuple[str, str]:
    """A branch, tag or commit to (full ref for Kaniko, commit sha)."""
    proj = project(path)
    for kind, manager in (("heads", proj.branches), ("tags", proj.tags)):
        try:
            found = manager.get(ref)
        except GitlabGetError as exc:
            if exc.response_code == 404:
                continue
            raise TemporaryError(f"GitLab ref lookup failed ({exc.response_code})") from None
        return f"refs/{kind}/{ref}", found.commit["id"]
    commit = _call(f"ref {ref}", lambda: proj.commits.get(ref))
    return f"refs/heads/{proj.default_branch}", commit.id
