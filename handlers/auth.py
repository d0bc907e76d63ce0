"""The shared-secret check of inbound webhooks: configured, present, equal in constant time."""

from __future__ import annotations

import hmac
import logging

from flask import jsonify
from pydantic import SecretStr

log = logging.getLogger("dockyard.auth")


def refuse_unless(expected: SecretStr | None, given: str, source: str, variable: str, how: str):
    """None when `given` matches; else the 503 (not configured) or 401 response to return."""
    if expected is None:
        return jsonify(error=f"{source} webhooks are not configured here: set {variable}"), 503
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        log.warning("refused a %s webhook: %s does not match", source, how)
        return jsonify(error=f"{how} does not match {variable}"), 401
    return None
