"""gunicorn's logger with Dockyard's redaction: access lines keep no credentials, capabilities or user names.

The combined log format gunicorn writes by default names the basic-auth user
(%(u)s), the request line with its path (%(r)s: /actions/<token> is a link that
acts as someone) and the referer (%(f)s: the confirm page posts to itself, so
the browser sends the token again). Configured as `logger_class` in gunicorn.conf.py.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from core.logs import Redacting, cap, redact

# Header and environ atoms (%({name}i)s, %({name}e)s) that carry credentials whatever their shape.
SENSITIVE = ("authorization", "cookie", "token", "signature", "sign", "secret")


class RedactingLogger(Logger):
    """gunicorn.glogging.Logger whose access atoms and error lines are redacted."""

    def setup(self, cfg) -> None:  # type: ignore[no-untyped-def]
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, Redacting) for f in log.filters):  # setup runs again on reload
                log.addFilter(Redacting())

    def atoms(self, resp, req, environ, request_time) -> dict:  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"  # a basic-auth user name says who holds a credential; the request id says enough
        for key, value in atoms.items():
            if key.startswith("{") and any(word in key for word in SENSITIVE):
                atoms[key] = "-"
            elif isinstance(value, str):
                atoms[key] = cap(redact(value), 500)
        return atoms
