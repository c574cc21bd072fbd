"""The request-metrics middleware, token-outcome counting and the master's metrics listener."""

import os
import socket

import pytest
import requests
from flask import Flask
from prometheus_client import REGISTRY

from authcore import metrics, metrics_listener


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.get("/things/<thing_id>")
    def thing(thing_id):
        return {"id": thing_id}

    @app.get("/plain")
    def plain():
        return {"ok": True}

    # A WSGI layer that answers one path before Flask, like the /me fast path.
    inner = app.wsgi_app

    def fast_path(environ, start_response):
        if environ["PATH_INFO"] == "/plain" and environ.get("HTTP_X_FAST"):
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        return inner(environ, start_response)

    app.wsgi_app = fast_path
    metrics.instrument(app)
    return app


def test_requests_are_counted_by_route_template_method_and_status(app):
    client = app.test_client()
    before = sample("authstack_http_requests_total", route="/things/<thing_id>", method="GET", status="200")
    for thing_id in ("a", "b", "someone@example.com"):
        assert client.get(f"/things/{thing_id}").status_code == 200
    after = sample("authstack_http_requests_total", route="/things/<thing_id>", method="GET", status="200")
    assert after - before == 3
    timed = sample("authstack_http_request_duration_seconds_count", route="/things/<thing_id>", method="GET")
    assert timed >= 3
    assert sample("authstack_http_requests_in_progress") == 0


def test_a_request_answered_before_flask_is_counted_under_its_route(app):
    before = sample("authstack_http_requests_total", route="/plain", method="GET", status="200")
    assert app.test_client().get("/plain", headers={"X-Fast": "1"}).data == b"{}"
    assert sample("authstack_http_requests_total", route="/plain", method="GET", status="200") - before == 1


def test_unknown_paths_and_methods_do_not_make_new_labels(app):
    client = app.test_client()
    before = sample("authstack_http_requests_total", route="unmatched", method="other", status="404")
    client.open("/no/such/" + "x" * 50, method="BREW")
    after = sample("authstack_http_requests_total", route="unmatched", method="other", status="404")
    assert after - before == 1


def test_a_token_outcome_counts_once_per_request():
    before = sample("authstack_token_verifications_total", result="expired")
    metrics._this_request.counted = None
    metrics.count_token("expired", "token-a")
    metrics.count_token("expired", "token-a")  # the same token checked again in the same request
    metrics.count_token("expired", "token-b")
    assert sample("authstack_token_verifications_total", result="expired") - before == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_master_listener_empties_the_folder_and_reports_a_dead_redis(tmp_path, monkeypatch):
    leftover = tmp_path / "counter_12345.db"
    leftover.write_bytes(b"old run")
    port = _free_port()
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))
    monkeypatch.setenv("METRICS_PORT", str(port))
    monkeypatch.setenv("BIND", "127.0.0.1:8000")
    dead_redis = f"redis://127.0.0.1:{_free_port()}/0"
    metrics_listener.start_metrics_listener("test_service", dead_redis)
    assert not leftover.exists()
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'authstack_dependency_up{dependency="redis"} 0.0' in text
    assert "authstack_revocation_list_ready 0.0" in text
    assert "authstack_build_info{python=" in text and 'service="test_service"' in text


@pytest.mark.parametrize("raw", ["-1", "65536", "port"])
def test_metrics_port_is_validated(raw):
    with pytest.raises(Exception, match="METRICS_PORT"):
        metrics_listener.metrics_port({"METRICS_PORT": raw})


def test_multiproc_folder_is_settled_before_prometheus_client_loads():
    assert os.path.isdir(os.environ[metrics.MULTIPROC_ENV])
    from prometheus_client import values

    assert values.ValueClass.__name__ == "MmapedValue"
