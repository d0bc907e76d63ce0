"""A local stand-in for GitLab's REST API v4: what Dockyard uses, over real HTTP.

The tests use it in place of GitLab, and `make run` starts one (a GitLab
cannot run here) so a push posted with curl goes all the way to a tag. It
checks PRIVATE-TOKEN and records commit statuses and tags. Run it alone with
`python -m deploy.local.gitlab_standin --port 8929 --token <t>`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import subprocess
import sys
from urllib.parse import parse_qs, unquote

from core.config import from_env
from deploy.local.standin import StandIn
from rules import load_rules


class GitLabAPI(StandIn):
    def __init__(self, token: str, projects: dict[str, dict], port: int = 0):
        """projects: path -> {"id", "branches": {name: sha}, "files": {path: text}}."""
        super().__init__(port)
        self.token = token
        self.projects = projects
        self.statuses: list[dict] = []
        self.tags: list[dict] = []

    def _project(self, ident: str) -> tuple[str, dict] | None:
        ident = unquote(ident)
        for path, data in self.projects.items():
            if ident in (path, str(data["id"])):
                return path, data
        return None

    def handle(self, method, path, query, headers, body):
        if headers.get("PRIVATE-TOKEN") != self.token:
            return 401, {"message": "401 Unauthorized"}
        match = re.match(r"^/api/v4/projects/([^/]+)(/.*)?$", path)
        found = self._project(match.group(1)) if match else None
        if not found:
            return 404, {"message": "404 Project Not Found"}
        name, project = found
        rest = match.group(2) or ""
        args = json.loads(body) if body and headers.get("Content-Type", "").startswith("application/json") else \
            {k: v[0] for k, v in parse_qs(body.decode()).items()} if body else {}
        if rest == "":
            return 200, {"id": project["id"], "path_with_namespace": name, "default_branch": "main"}
        if m := re.match(r"^/repository/files/(.+)$", rest):
            file_path = unquote(m.group(1))
            if file_path not in project.get("files", {}):
                return 404, {"message": "404 File Not Found"}
            content = base64.b64encode(project["files"][file_path].encode()).decode()
            return 200, {"file_path": file_path, "file_name": file_path.rsplit("/", 1)[-1], "encoding": "base64",
                         "content": content, "ref": query.get("ref", [""])[0]}
        if m := re.match(r"^/repository/branches/(.+)$", rest):
            branch = unquote(m.group(1))
            if branch not in project["branches"]:
                return 404, {"message": "404 Branch Not Found"}
            return 200, {"name": branch, "commit": {"id": project["branches"][branch]}}
        if m := re.match(r"^/repository/tags/(.+)$", rest):
            tag = [t for t in self.tags if t["project"] == name and t["tag_name"] == unquote(m.group(1))]
            return (200, {"name": tag[0]["tag_name"], "commit": {"id": tag[0]["ref"]}}) if tag else \
                (404, {"message": "404 Tag Not Found"})
        if m := re.match(r"^/repository/commits/(.+)$", rest):
            ref = unquote(m.group(1))
            return 200, {"id": project["branches"].get(ref) or _sha(name, ref)}
        if method == "POST" and (m := re.match(r"^/statuses/([0-9a-f]+)$", rest)):
            if args.get("state") not in ("pending", "running", "success", "failed", "canceled"):
                return 400, {"message": "state is invalid"}
            self.statuses.append({"project": name, "sha": m.group(1), **args})
            log(f"commit status {args['state']:<8} {name}@{m.group(1)[:8]}: {args.get('description', '')}")
            return 201, {"id": len(self.statuses), "sha": m.group(1), "status": args["state"], "name": args.get("name")}
        if method == "POST" and rest == "/repository/tags":
            if not _valid_tag_name(str(args.get("tag_name", ""))):
                return 400, {"message": "Tag name invalid"}  # GitLab refuses what git refuses
            if any(t["project"] == name and t["tag_name"] == args.get("tag_name") for t in self.tags):
                return 400, {"message": "Tag already exists"}
            self.tags.append({"project": name, **args})
            log(f"tag {args['tag_name']} created on {name}@{args['ref'][:8]}")
            return 201, {"name": args["tag_name"], "commit": {"id": args["ref"]}, "message": args.get("message")}
        return 404, {"message": f"404 {rest} Not Found"}


def _valid_tag_name(name: str) -> bool:
    """What git (and so GitLab) accepts as a tag name, asked of git itself."""
    return bool(name) and "\x00" not in name and subprocess.run(["git", "check-ref-format", f"refs/tags/{name}"],
                                                                 capture_output=True).returncode == 0


def _sha(project: str, ref: str) -> str:
    """A stable made-up commit id for a branch of the local stand-in."""
    return hashlib.sha1(f"{project}@{ref}".encode()).hexdigest()


def log(line: str) -> None:
    print(f"[gitlab stand-in] {line}", file=sys.stderr, flush=True)


def main() -> None:
    """Serve the catalog's projects, each with a main branch, until interrupted."""

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8929)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    rules = load_rules(from_env().rules_dir)
    projects = {svc.git: {"id": i, "branches": {b: _sha(svc.git, b) for b in svc.branches if "*" not in b}}
                for i, svc in enumerate(rules.catalog.services.values(), 1)}
    standin = GitLabAPI(args.token, projects, port=args.port)
    log(f"serving {', '.join(projects)} on http://127.0.0.1:{args.port}")
    standin.server.serve_forever()


if __name__ == "__main__":
    main()
