"""Drive an HTTP endpoint with wrk: a Lua script makes every request a distinct webhook delivery.

Distinct, so each request does the whole work of a new delivery (dedupe miss, job, audit) rather than
the cheap duplicate answer; the script reports requests, non-2xx answers and latency percentiles.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITLAB_PUSH = ROOT / "tests" / "fixtures" / "gitlab" / "push.json"

_SCRIPT = r"""
local body = [==[%(body)s]==]
local headers = %(headers)s
local nonce = "%(nonce)s"
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
request = function()
  counter = counter + 1
  local unique = string.format("%%s%%04x%%08x", nonce, id, counter)
  local h = {}
  for k, v in pairs(headers) do h[k] = (v:gsub("__UNIQUE__", unique)) end
  return wrk.format("POST", "%(path)s", h, (body:gsub("__UNIQUE__", unique)))
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %%d, "microseconds": %%d, "non2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d}\n', summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def gitlab_body() -> str:
    """A real GitLab Push Hook whose commit is __UNIQUE__ (made 40 hex digits by the script)."""
    push = json.loads(GITLAB_PUSH.read_text())
    sha = push["checkout_sha"]
    return json.dumps(push).replace(sha, "__UNIQUE__")


def alertmanager_body() -> str:
    """Alertmanager's webhook (version 4): one firing alert in a group whose key is __UNIQUE__."""
    labels = {"alertname": "HighLatency", "service": "web", "team": "storefront", "severity": "warning",
              "namespace": "shop-prod", "pod": "web-7d9f8b6c5-x2x9z"}
    notes = {"summary": "p99 latency of web above 2s", "runbook_url": "http://wiki.example/runbooks/latency"}
    return json.dumps({
        "version": "4", "groupKey": '{}:{alertname="HighLatency", key="__UNIQUE__"}', "truncatedAlerts": 0,
        "status": "firing", "receiver": "dockyard", "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": labels, "commonAnnotations": notes, "externalURL": "http://alertmanager.example:9093",
        "alerts": [{"status": "firing", "labels": labels, "annotations": notes, "startsAt": "2026-05-01T08:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "__UNIQUE__",
                    "generatorURL": "http://prometheus.example/graph?g0.expr=latency"}]})


def script(path: str, body: str, headers: dict[str, str]) -> str:
    """The Lua script; __UNIQUE__ in the body and headers becomes a 40-hex-digit id unique to the request."""
    lua_headers = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    nonce = uuid.uuid4().hex[:28]  # + 4 thread + 8 counter digits = 40, a commit sha's length
    return _SCRIPT % {"body": body, "headers": lua_headers, "nonce": nonce, "path": path}


@dataclass
class Result:
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse(output: str) -> Result:
    """The BENCH line the script's done() writes."""
    found = re.search(r"^BENCH (\{.*\})$", output, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no result; its output was:\n{output[-2000:]}")
    d = json.loads(found.group(1))
    return Result(requests=d["requests"], seconds=d["microseconds"] / 1e6, non2xx=d["non2xx"],
                  socket_errors=d["socket_errors"], p50_ms=d["p50_us"] / 1000, p99_ms=d["p99_us"] / 1000)


def run(base: str, lua: str, workdir: Path, seconds: float, connections: int = 16, threads: int = 2) -> Result:
    path = workdir / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    path.write_text(lua)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "5s",
                          "-s", str(path), base], capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()[-1000:]}")
    return parse(out.stdout)
