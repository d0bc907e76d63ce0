"""Kubernetes API failures become one retry decision everywhere (deploy/api_errors.py)."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from core.errors import PermanentError, TemporaryError
from deploy import api_errors


def failure(status: int, message: str = "", retry_after: str | None = None) -> ApiException:
    """An ApiException as the client raises it: the API server's Status object in the body."""
    exc = ApiException(status=status, reason="Reason")
    exc.body = json.dumps({"kind": "Status", "message": message})
    exc.headers = {"Retry-After": retry_after} if retry_after else {}
    return exc


@pytest.mark.parametrize("status,kind", [
    (400, PermanentError), (403, PermanentError), (404, PermanentError), (422, PermanentError),
    (409, TemporaryError), (410, TemporaryError), (429, TemporaryError), (500, TemporaryError),
    (503, TemporaryError),
])
def test_each_status_is_retried_or_not(status, kind):
    assert type(api_errors.decide(failure(status, "said"))) is kind


def test_the_servers_message_and_the_wait_it_asks_for_are_kept():
    throttled = api_errors.decide(failure(429, "too many requests", retry_after="7"))
    assert isinstance(throttled, TemporaryError) and throttled.delay == 7.0
    refused = api_errors.decide(failure(403, 'pods "x" is forbidden'), namespace="shop-prod")
    assert str(refused) == ('the cluster refused Dockyard (403 pods "x" is forbidden): '
                            'check its RBAC for namespace shop-prod')
    missing = api_errors.decide(failure(404, 'deployments.apps "web" not found'))
    assert str(missing) == 'the cluster refused (404 deployments.apps "web" not found)'


def test_a_lost_connection_is_temporary_inside_translated():
    with pytest.raises(TemporaryError, match="the cluster did not answer: ProtocolError"):
        with api_errors.translated():
            raise ProtocolError("Connection aborted.")
