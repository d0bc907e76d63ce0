"""Request bodies are read in full before Flask sees them: at most MAX_BODY bytes, none of it stalling.

Two things the WSGI stack does not do for us:
- A chunked body has no Content-Length, and Werkzeug's MAX_CONTENT_LENGTH then
  stops reading at the limit without saying so: the view got the first MB and
  called it malformed. Counting the body here turns it into a Content-Length,
  which Werkzeug refuses with 413 like any other oversized body.
- A client that sends its headers and then not its body would hold a worker
  thread for as long as it keeps the connection open. Under gunicorn the socket
  is in the environ, so every read gets the time left of BODY_SECONDS and a
  stalled body is answered 408, freeing the thread. (A client trickling a byte
  at a time restarts the socket timeout within one READ_SIZE read, and one that
  trickles its headers never reaches the app: a buffering proxy in front is the
  remedy for those.)
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

MAX_BODY = 1024 * 1024  # webhook and chat payloads above this are refused with 413
BODY_SECONDS = 10.0  # a body of MAX_BODY arrives well within this on any working link
READ_SIZE = 16 * 1024
# An oversized chunked body is read on (and dropped) up to this much, so the 413 reaches a client that
# sends everything before it reads; beyond it the connection is simply closed.
DRAIN_LIMIT = 8 * MAX_BODY
REFUSED = "dockyard.body_refused"  # environ key: (status, reason) when the body was refused here

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class BodyStalled(Exception):
    """The client stopped sending its body."""


class BoundedBody:
    """WSGI middleware: buffer the request body under a size limit and a time limit."""

    def __init__(self, app: WSGIApp, limit: int = MAX_BODY, seconds: float = BODY_SECONDS):
        self.app, self.limit, self.seconds = app, limit, seconds

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        length = _content_length(environ)
        if not chunked and (not length or length > self.limit):
            return self.app(environ, start_response)  # no body, or Werkzeug refuses it by its Content-Length
        try:
            body, total = _read(environ, length if not chunked else self.limit + 1, self.seconds,
                                drain=DRAIN_LIMIT if chunked else 0)
        except BodyStalled:
            return self._refuse(environ, start_response, 408, f"the request body stalled: it did not arrive "
                                f"within {self.seconds:g} s; send the whole request at once")
        except OSError:  # the client went away mid-body, or sent a broken chunk
            return self._refuse(environ, start_response, 400, "the request body ended before it was complete")
        if not chunked and total < length:
            return self._refuse(environ, start_response, 400, f"the request body ended after {total} of the "
                                f"{length} bytes its Content-Length announced")
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # Werkzeug ignores Content-Length while this says chunked
        environ["CONTENT_LENGTH"] = str(total)  # over the limit: Flask answers 413 when the view reads it
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

    def _refuse(self, environ: Environ, start_response: StartResponse, status: int, reason: str) -> Iterable[bytes]:
        """Let the app answer (so the refusal is counted and carries a request id), with no body to read."""
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.update({REFUSED: (status, reason), "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO()})
        return self.app(environ, start_response)


def refusal(environ: Environ) -> tuple[int, str] | None:
    """The (status, reason) BoundedBody refused this request's body with, if it did."""
    return environ.get(REFUSED)


def _content_length(environ: Environ) -> int | None:
    value = environ.get("CONTENT_LENGTH") or ""
    # gunicorn has checked it already; the length cap keeps int() within Python's digit limit whoever serves us
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _read(environ: Environ, want: int, seconds: float, drain: int) -> tuple[bytes, int]:
    """(up to `want` bytes of the body, how many bytes were read in all, including up to `drain` dropped)."""
    stream = environ["wsgi.input"]
    sock: socket.socket | None = environ.get("gunicorn.socket")
    prior = sock.gettimeout() if sock is not None else None
    deadline = time.monotonic() + seconds
    kept, total = io.BytesIO(), 0
    try:
        while total < want + drain:
            if sock is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BodyStalled()
                sock.settimeout(remaining)
            try:
                data = stream.read(min(READ_SIZE, want + drain - total))
            except TimeoutError:
                raise BodyStalled() from None
            if not data:
                break
            if total < want:
                kept.write(data[:want - total])
            total += len(data)
    finally:
        if sock is not None:
            sock.settimeout(prior)
    return kept.getvalue(), total
