"""A tiny threaded HTTP server for stand-ins of SaaS APIs (tests, and GitLab on make run)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class StandIn:
    """Subclasses implement handle(method, path, query, headers, body) -> (status, json)."""

    def __init__(self, port: int = 0):
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def do_PUT(self):  # noqa: N802  (DingTalk updates a card with PUT)
                self._serve("PUT")

            def do_PATCH(self):  # noqa: N802  (Feishu edits a card with PATCH)
                self._serve("PATCH")

            def _serve(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                url = urlparse(self.path)
                status, answer = owner.handle(method, url.path, parse_qs(url.query), self.headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "StandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def record(self, **call) -> None:
        with self.lock:
            self.calls.append(call)

    def handle(self, method, path, query, headers, body):  # pragma: no cover - overridden
        raise NotImplementedError
