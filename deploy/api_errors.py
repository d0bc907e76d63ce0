"""The one place that turns Kubernetes API failures into retry decisions (after kopf's check_response)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator

from kubernetes.client.exceptions import ApiException
from rq import get_current_job
from urllib3.exceptions import HTTPError

from core.errors import PermanentError, TemporaryError

# Worth another try: throttled, a conflicting write (re-read and retry), an expired watch, the server's own trouble.
TEMPORARY = {409, 410, 429}


def message(exc: ApiException) -> str:
    """What the API server said, in one line (its Status message, else the body)."""
    try:
        said = json.loads(exc.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        said = str(exc.body or "")
    return f"{exc.status} {said or exc.reason or ''}".strip()[:300]


def _retry_after(exc: ApiException) -> float | None:
    value = (exc.headers or {}).get("Retry-After") if exc.headers else None
    return float(value) if value and str(value).isdigit() else None


RBAC_NOT_FOUND = re.compile(r'RBAC: (cluster)?role(binding)?\.rbac\.authorization\.k8s\.io "[^"]*" not found')


def _first_refusal() -> bool:
    """Whether this is the first 401/403 an RQ job has met (noted in its meta, which outlives the attempt)."""
    job = get_current_job()
    if job is None or job.meta.get("refused_before"):
        return False
    job.meta["refused_before"] = True
    job.save_meta()
    return True


def decide(exc: BaseException, namespace: str | None = None) -> Exception:
    """PermanentError or TemporaryError for a failed call to the cluster; the error to raise."""
    if isinstance(exc, ApiException):
        if exc.status == 403 and RBAC_NOT_FOUND.search(str(exc.body or "").replace('\\"', '"')):
            # The authorizer names a Role or binding it cannot see: a restarted apiserver answers so until
            # its RBAC cache has filled (seconds). A role that is really missing fails the same after retries.
            where = f" for namespace {namespace}" if namespace else ""
            return TemporaryError(f"the cluster refused Dockyard ({message(exc)}): a restarted apiserver says so "
                                  f"until its RBAC cache fills; if it lasts, check its RBAC{where}")
        if exc.status in (401, 403):
            where = f" for namespace {namespace}" if namespace else ""
            if _first_refusal():
                # An apiserver that just restarted may refuse with a plain 403 until its RBAC cache fills,
                # which no word of the answer tells from a real refusal: a job tries once more, then says so.
                return TemporaryError(f"the cluster refused Dockyard ({message(exc)}): trying once more in case "
                                      f"its apiserver just restarted; if it lasts, check its RBAC{where}")
            return PermanentError(f"the cluster refused Dockyard ({message(exc)}): check its RBAC{where}")
        if exc.status in TEMPORARY or (exc.status or 0) >= 500:
            return TemporaryError(f"the cluster answered {message(exc)}", delay=_retry_after(exc))
        return PermanentError(f"the cluster refused ({message(exc)})")
    return TemporaryError(f"the cluster did not answer: {exc.__class__.__name__}: {exc}"[:300])


@contextlib.contextmanager
def translated(namespace: str | None = None) -> Iterator[None]:
    """Raise PermanentError/TemporaryError for whatever the Kubernetes client raises inside."""
    try:
        yield
    except (ApiException, HTTPError, OSError) as exc:
        raise decide(exc, namespace) from None
