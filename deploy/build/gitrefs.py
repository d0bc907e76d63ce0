"""Which refs, commit ids and image tags a build may carry. Pure.

A push's ref and commit end up inside Kaniko's git context
(`git://host/repo.git#<ref>#<commit>`), which Kaniko splits on `#`: a ref with
a `#` in it would make Kaniko check out another commit than the one GitLab
and chat name. So both are checked here, by git's own rules plus ours, before
anything is queued, and again where the context is written.
"""

from __future__ import annotations

import re
import unicodedata

SHA = re.compile(r"^[0-9a-f]{40}$")
PROJECT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$")  # GitLab's path rules
REF_PREFIXES = ("refs/heads/", "refs/tags/")
# git check-ref-format: no control characters, space, ~ ^ : ? * [ or backslash; Dockyard adds '#'
# (Kaniko's git context separator) and lone surrogates (JSON can carry them; they are not text).
FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\#\ud800-\udfff]")
DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
TAG_MAX = 128  # a Docker tag's limit
STAMP = "%Y%m%d%H%M%S"


def ref_problem(ref: str) -> str:
    """Why `ref` is not a branch or tag ref Dockyard builds, or "" when it is."""
    if not ref.startswith(REF_PREFIXES):
        return f"ref {_shown(ref)} is neither refs/heads/... nor refs/tags/..."
    if bad := FORBIDDEN.search(ref):
        return f"ref {_shown(ref)} contains {bad.group()!r}, which git or Kaniko's git context does not allow"
    for needle, rule in (("..", "'..'"), ("@{", "'@{'"), ("//", "'//'")):
        if needle in ref:
            return f"ref {_shown(ref)} contains {rule}, which git does not allow in a ref"
    if ref.endswith(("/", ".", ".lock")):
        return f"ref {_shown(ref)} ends with '/', '.' or '.lock', which git does not allow"
    if any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/")):
        return f"ref {_shown(ref)} has a part starting with '.' or ending with '.lock', which git does not allow"
    return ""


def sha_problem(sha: object, field: str = "commit") -> str:
    """Why `sha` is not a full commit id (40 lowercase hex), or "" when it is."""
    if not isinstance(sha, str) or not SHA.match(sha):
        return f"{field} {_shown(sha)} is not a 40-character lowercase hex commit id"
    return ""


def project_problem(project: str) -> str:
    """Why `project` is not a GitLab group/project path, or "" when it is."""
    if not PROJECT.match(project) or ".." in project:
        return f"project {_shown(project)} is not a GitLab path like group/project (the catalog's git:)"
    return ""


def image_tag(stamp: str, user: str) -> str:
    """`<stamp>-<user>` as a valid Docker tag and git tag name, whatever the user name holds."""
    tag = f"{stamp}-{tag_part(user, TAG_MAX - len(stamp) - 1) or 'unknown'}"
    return tag if DOCKER_TAG.match(tag) else f"{stamp}-unknown"


def tag_part(user: str, room: int = TAG_MAX) -> str:
    """A user name in at most `room` tag characters: accents transliterated, other non-ASCII dropped."""
    ascii_only = unicodedata.normalize("NFKD", user).encode("ascii", "ignore").decode().lower()
    # '..' and a trailing '.', '-' or '.lock' are cut because GitLab gets this tag as a git tag too
    part = re.sub(r"\.{2,}", ".", re.sub(r"[^a-z0-9_.-]+", "-", ascii_only))[:room]
    while part != (trimmed := part.strip(".-").removesuffix(".lock")):
        part = trimmed
    return part


def _shown(value: object) -> str:
    """A user-supplied value short enough to quote in an answer."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
