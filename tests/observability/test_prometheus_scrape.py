"""Prometheus scrapes the stack and its queries count exactly what a scripted sequence did.

The sequence: N logins, one failed login, one refresh and a reuse of the
token it replaced, one logout, one /me. Counters are read before and after
(both after a fresh scrape), so the rest of the suite's traffic cancels out.
"""

import time

import pytest
import requests

from tests.helpers import bearer

LOGINS = 3

# PromQL -> how much the sequence must add to it.
EXPECTED_INCREASE = {
    'sum(authstack_login_attempts_total{job="auth_service",result="success"})': LOGINS,
    'sum(authstack_login_attempts_total{job="auth_service",result="invalid_credentials"})': 1,
    'sum(authstack_refreshes_total{result="rotated"})': 1,
    'sum(authstack_refreshes_total{result="reuse_detected"})': 1,
    'sum(authstack_sessions_ended_total{reason="reuse"})': 1,
    'sum(authstack_sessions_ended_total{reason="logout"})': 1,
    'sum(authstack_audit_events_total{action="authn_token_reuse"})': 1,
    'sum(authstack_audit_events_total{action="authn_login_fail"})': 1,
    'sum(authstack_tokens_issued_total{job="auth_service",kind="access"})': LOGINS + 1,
    'sum(authstack_tokens_issued_total{kind="refresh"})': LOGINS + 1,
    'sum(authstack_http_requests_total{job="auth_service",route="/auth/login",status="200"})': LOGINS,
    'sum(authstack_http_requests_total{job="auth_service",route="/auth/login",status="401"})': 1,
    'sum(authstack_http_requests_total{job="auth_service",route="/auth/logout",status="204"})': 1,
    'sum(authstack_http_requests_total{job="api_service",route="/api/v1/me",status="200"})': 1,
    'sum(authstack_token_verifications_total{job="api_service",result="ok"})': 1,
    'sum(authstack_signups_total{result="created"})': 1,
}


def _scripted_sequence(api) -> None:
    user = api.create_user()
    sessions = [api.login(user["username"], user["password"]) for _ in range(LOGINS)]
    failed = api.post("/auth/login", {"username": user["username"], "password": "not-the-password-1"})
    assert failed.status_code == 401, failed.text
    first = sessions[0]["refresh_token"]
    assert api.post("/auth/refresh", {"refresh_token": first}).status_code == 200
    assert api.post("/auth/refresh", {"refresh_token": first}).status_code == 401  # the reuse
    assert api.post("/auth/logout", token=sessions[1]["access_token"]).status_code == 204
    assert api.me(sessions[2]["access_token"]).status_code == 200


def _read_all(prometheus) -> dict[str, float]:
    return {expr: prometheus.value(expr) for expr in EXPECTED_INCREASE}


def test_every_target_is_up(prometheus):
    up = {r["metric"]["job"]: r["value"][1] for r in prometheus.query("up")}
    assert up == {"auth_service": "1", "api_service": "1", "nginx": "1"}
    assert prometheus.value("nginx_up") == 1
    assert prometheus.value('sum(authstack_dependency_up{job="auth_service"})') == 2  # postgres, redis
    assert prometheus.value("min(authstack_revocation_list_ready)") == 1
    services = {r["metric"]["service"] for r in prometheus.query("authstack_build_info")}
    assert services == {"auth_service", "api_service"}


def test_queries_count_the_scripted_sequence(api, prometheus):
    prometheus.last_scrape_after(time.time())
    before = _read_all(prometheus)
    nginx_before = prometheus.value("nginx_http_requests_total")
    _scripted_sequence(api)
    prometheus.last_scrape_after(time.time())
    after = _read_all(prometheus)
    increases = {expr: after[expr] - before[expr] for expr in EXPECTED_INCREASE}
    assert increases == EXPECTED_INCREASE
    # nginx saw at least the sequence's 10 requests (stub_status counts every request).
    assert prometheus.value("nginx_http_requests_total") - nginx_before >= 10


def test_the_reuse_alert_fires(api, prometheus):
    user = api.create_user()
    token = api.login(user["username"], user["password"])["refresh_token"]
    api.post("/auth/refresh", {"refresh_token": token})
    api.post("/auth/refresh", {"refresh_token": token})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        alerts = requests.get(f"{prometheus.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        if any(
            a["labels"]["alertname"] == "AuthstackRefreshTokenReuse" and a["state"] == "firing"
            for a in alerts
        ):
            return
        time.sleep(0.5)
    pytest.fail(f"AuthstackRefreshTokenReuse did not fire: {alerts}")


def test_no_label_names_a_user(api, prometheus, new_user):
    """No series carries a user id, username or email as a label value."""
    api.login(new_user["username"], new_user["password"])
    prometheus.last_scrape_after(time.time())
    series = requests.get(
        f"{prometheus.url}/api/v1/series", params={"match[]": '{__name__=~"authstack_.+"}'}, timeout=5
    ).json()["data"]
    assert series, "no authstack_ series at all"
    values = {value for labels in series for value in labels.values()}
    for secret in (new_user["id"], new_user["username"], new_user["email"]):
        assert secret not in values


def test_the_metrics_listeners_are_not_on_the_public_port(base_url):
    response = requests.get(base_url + "/metrics", headers=bearer("x"), timeout=5)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_personal_access_token_checks_and_events_are_counted_by_outcome(api, prometheus, logged_in):
    checks = 'sum(authstack_personal_access_token_checks_total{{job="api_service",result="{}"}})'
    events = 'sum(authstack_audit_events_total{{job="auth_service",action="{}"}})'
    expected = {
        checks.format("ok"): 2,
        checks.format("unknown"): 1,
        checks.format("bad_checksum"): 1,
        checks.format("malformed"): 1,
        events.format("pat_created"): 1,
        events.format("pat_revoked"): 1,
    }
    prometheus.last_scrape_after(time.time())
    before = {expr: prometheus.value(expr) for expr in expected}
    access = logged_in["access_token"]
    created = api.post("/auth/tokens", {"name": "counted"}, token=access).json()
    token = created["token"]
    assert api.me(token).status_code == 200
    assert api.get("/api/v1/example/hello", token=token).status_code == 200
    response = api.request("DELETE", f"/auth/tokens/{created['id']}", headers=bearer(access))
    assert response.status_code == 204
    assert api.me(token).status_code == 401  # unknown: revoked
    assert api.me(token[:-6] + ("AAAAAA" if token[-6:] != "AAAAAA" else "BBBBBB")).status_code == 401
    assert api.me("pat_short").status_code == 401
    prometheus.last_scrape_after(time.time())
    increases = {expr: prometheus.value(expr) - before[expr] for expr in expected}
    assert increases == expected
