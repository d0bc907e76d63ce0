"""Health, readiness and metrics endpoints through the Flask app."""

from __future__ import annotations

from core.config import Settings
from core.runtime import Runtime


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_when_redis_and_rules_are_there(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"ready": True, "services": 4}  # web, api, ledger, reconcile


def test_readyz_is_503_with_the_reason_when_redis_is_gone(example_rules):
    from handlers.app import create_app
    from deploy.local.services import free_port

    dead = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(rt=Runtime(settings=dead, rules=example_rules))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert body["reasons"][0].startswith("redis unreachable:")


def test_metrics_count_requests_by_endpoint_and_status(client):
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'dockyard_http_requests_total{endpoint="/healthz",method="GET",status="200"} 2.0' in text
    assert 'dockyard_http_requests_total{endpoint="unmatched",method="GET",status="404"} 1.0' in text


def test_request_id_is_echoed_or_made_up(client):
    assert client.get("/healthz", headers={"X-Request-Id": "abc123"}).headers["X-Request-Id"] == "abc123"
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 16
