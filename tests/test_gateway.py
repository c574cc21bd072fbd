"""Gateway mode through nginx: APP_PREFIX is authenticated, the upstream (whoami) gets the identity.

The test drivers run the stack with ``APP_ROLE`` set (the role prefix), so
the users here are granted that role first, as an operator would.
"""

import http.client
import ipaddress
import json
import urllib.parse

import pytest

from tests.helpers import GATEWAY_PATH, TIMEOUT, assert_error, bearer, gateway_login, gateway_role


@pytest.fixture
def member(api, admin_token):
    """A logged-in user allowed through the gateway, with its session id."""
    user = gateway_login(api, admin_token)
    user["session_id"] = api.me(user["access_token"]).json()["session_id"]
    return user


def whoami(api, token, headers=None, path=GATEWAY_PATH, method="GET"):
    """A request through the gateway; raw, so duplicate headers go out as sent."""
    return api.request(method, path, headers={**(headers or {}), **(bearer(token) if token else {})})


def assert_one_bearer_challenge(response, error: str | None = None):
    challenges = response.raw.headers.getlist("WWW-Authenticate")
    assert len(challenges) == 1, challenges
    assert challenges[0].startswith("Bearer realm=")
    if error:
        assert f'error="{error}"' in challenges[0]


def assert_not_html(response):
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    assert "<html" not in response.text.lower()


def test_the_upstream_gets_the_callers_identity_and_not_the_token(api, member):
    response = whoami(api, member["access_token"])
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["method"] == "GET"
    assert seen["path"] == GATEWAY_PATH
    headers = seen["headers"]
    assert headers["x-auth-user-id"] == member["id"]
    assert headers["x-auth-username"] == member["username"]
    assert headers["x-auth-session-id"] == member["session_id"]
    roles = sorted(filter(None, [gateway_role()]))
    assert headers.get("x-auth-roles", "") == ",".join(roles)
    assert headers["x-auth-amr"] == "pwd"
    assert "authorization" not in headers
    assert response.headers["X-Request-ID"]


def test_roles_arrive_sorted_and_comma_separated(api, admin_token):
    user = api.create_user()
    for role in ("zeta", "alpha", gateway_role() or "mid"):
        granted = api.request(
            "PUT", f"/auth/users/{user['username']}/roles/{role}", headers=bearer(admin_token)
        )
        assert granted.status_code == 204, granted.text
    token = api.login(user["username"], user["password"])["access_token"]
    roles = whoami(api, token).json()["headers"]["x-auth-roles"]
    assert roles == ",".join(sorted({"zeta", "alpha", gateway_role() or "mid"}))


def test_client_sent_identity_headers_are_replaced(api, member):
    forged = {
        "X-AUTH-USER-ID": "forged",
        "x-auth-USERNAME": "root",
        "X-Auth-Roles": "admin",
        "x-auth-session-id": "s",
        "X-Auth-Amr": "mfa,otp,pwd",
    }
    response = whoami(api, member["access_token"], forged)
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert headers["x-auth-user-id"] == member["id"]
    assert headers["x-auth-username"] == member["username"]
    assert headers["x-auth-session-id"] == member["session_id"]
    assert headers.get("x-auth-roles", "") == gateway_role()
    assert headers["x-auth-amr"] == "pwd"


def test_duplicate_identity_headers_on_the_wire_are_all_dropped(base_url, member):
    # requests merges same-named headers, so speak HTTP directly.
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=TIMEOUT)
    connection.putrequest("GET", GATEWAY_PATH)
    connection.putheader("Authorization", f"Bearer {member['access_token']}")
    for value in ("forged-1", "forged-2"):
        connection.putheader("X-Auth-User-Id", value)
        connection.putheader("x-auth-username", value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200, body
    headers = json.loads(body)["headers"]
    assert headers["x-auth-user-id"] == member["id"]
    assert headers["x-auth-username"] == member["username"]


@pytest.mark.parametrize("name", ["X-Auth-Foo", "x-auth-admin", "X-AUTH-USER", "X-Auth-Error"])
def test_any_other_x_auth_header_is_refused_before_the_upstream(api, member, name):
    response = whoami(api, member["access_token"], {name: "1"})
    assert_error(response, 400, "reserved_header")
    assert_not_html(response)


def test_underscored_lookalikes_never_reach_the_upstream(api, member):
    response = whoami(api, member["access_token"], {"X_Auth_User_Id": "forged"})
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert "x_auth_user_id" not in headers
    assert headers["x-auth-user-id"] == member["id"]


def test_no_token_is_401_json_with_a_bearer_challenge(api):
    response = whoami(api, None)
    assert_error(response, 401, "missing_token")
    assert_one_bearer_challenge(response)
    assert_not_html(response)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "x" * 300])
def test_a_bad_token_is_401_json_with_a_bearer_challenge(api, token):
    response = whoami(api, token)
    assert_error(response, 401, "invalid_token")
    assert_one_bearer_challenge(response, "invalid_token")


def test_a_token_revoked_by_logout_is_refused_on_the_very_next_request(api, member):
    token = member["access_token"]
    assert whoami(api, token).status_code == 200
    logout = api.post("/auth/logout", {"refresh_token": member["refresh_token"]}, token=token)
    assert logout.status_code == 204, logout.text
    assert_error(whoami(api, token), 401, "invalid_token")


def test_the_role_prefix_refuses_a_token_without_the_role(api, admin_token):
    role = gateway_role()
    if not role:
        pytest.fail("APP_ROLE is not set: run the suite with `make test` (the drivers set it)")
    user = api.create_user()
    token = api.login(user["username"], user["password"])["access_token"]
    response = whoami(api, token)
    assert_error(response, 403, "forbidden")
    assert_not_html(response)
    granted = api.request("PUT", f"/auth/users/{user['username']}/roles/{role}", headers=bearer(admin_token))
    assert granted.status_code == 204
    token = api.login(user["username"], user["password"])["access_token"]
    assert whoami(api, token).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_every_method_passes_with_its_body(api, member, method):
    response = api.request(
        method, GATEWAY_PATH + "?q=1", json={"x": 1}, headers=bearer(member["access_token"])
    )
    assert response.status_code == 200, response.text
    assert response.json()["method"] == method
    assert response.json()["path"] == GATEWAY_PATH + "?q=1"


def test_a_refused_post_never_answers_html(api):
    response = api.request("POST", GATEWAY_PATH, json={"x": 1})
    assert_error(response, 401, "missing_token")


@pytest.mark.parametrize("path", ["/_gateway/verify", "/_gateway/missing_token", "/_gateway/forbidden"])
def test_the_verify_step_is_not_reachable_from_outside(api, member, path):
    response = api.get(path, token=member["access_token"])
    assert_error(response, 404, "not_found")


def test_the_verify_endpoint_is_not_under_the_api_prefix(api, member):
    response = api.get("/api/_gateway/verify", token=member["access_token"])
    assert_error(response, 404, "not_found")


# What a client may send that a framework behind a proxy trusts: each with a
# forged value. The upstream must see nginx's value or nothing.
FORGED_PROXY_HEADERS = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Port": "4444",
    "Forwarded": "for=203.0.113.9;host=evil.example;proto=https",
    "X-Real-IP": "203.0.113.9",
    "X-Request-Start": "t=1",
}
FORGED_DROPPED_HEADERS = {
    "X-Original-URL": "/admin",
    "X-Rewrite-URL": "/admin",
    "X-Original-Host": "evil.example",
    "X-Forwarded-Server": "evil.example",
    "X-Forwarded-Prefix": "/admin",
    "X-Forwarded-Ssl": "on",
    "X-Forwarded-Protocol": "https",
    "X-Client-IP": "203.0.113.9",
    "True-Client-IP": "203.0.113.9",
}


def _addressed_authority(base_url: str) -> str:
    """The Host header a client sends for ``base_url`` (no port when it is the scheme's default)."""
    url = urllib.parse.urlsplit(base_url)
    default = {"http": 80, "https": 443}[url.scheme]
    return url.hostname if url.port in (None, default) else f"{url.hostname}:{url.port}"


def test_proxy_headers_are_nginxs_own_never_the_clients(api, base_url, member):
    response = whoami(api, member["access_token"], {**FORGED_PROXY_HEADERS, **FORGED_DROPPED_HEADERS})
    assert response.status_code == 200, response.text
    seen = response.json()["headers"]
    client = seen["x-forwarded-for"]
    # One hop, the address nginx saw (whatever it is on this stack: not the forged one).
    assert ipaddress.ip_address(client) and client != "203.0.113.9", seen
    assert seen["x-real-ip"] == client, seen
    assert seen["x-forwarded-proto"] == urllib.parse.urlsplit(base_url).scheme, seen
    authority = _addressed_authority(base_url)
    assert seen["x-forwarded-host"] == authority, seen
    assert seen["x-forwarded-port"].isdigit() and seen["x-forwarded-port"] != "4444", seen
    node = f'"[{client}]"' if ":" in client else client
    scheme = urllib.parse.urlsplit(base_url).scheme
    assert seen["forwarded"] == f'for={node};proto={scheme};host="{authority}"', seen
    assert seen["x-request-start"].startswith("t=") and seen["x-request-start"] != "t=1", seen
    # A fixed Host: the upstream's own name, not what the client addressed.
    assert seen["host"] != authority and "evil" not in seen["host"], seen
    for name in FORGED_DROPPED_HEADERS:
        assert name.lower() not in seen, (name, seen)


def test_a_forged_host_header_never_reaches_the_upstream_as_host(base_url, member):
    # requests sets Host from the URL: speak HTTP directly.
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=TIMEOUT)
    connection.putrequest("GET", GATEWAY_PATH, skip_host=True)
    connection.putheader("Host", "evil.example")
    connection.putheader("Authorization", f"Bearer {member['access_token']}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200, body
    seen = json.loads(body)["headers"]
    assert "evil" not in seen["host"], seen
    # The authority the client addressed is passed as what it is, under its own name.
    assert seen["x-forwarded-host"] == "evil.example", seen


def test_x_auth_headers_from_the_client_never_arrive(api, member):
    forged = {
        name: "forged"
        for name in ("X-Auth-User-Id", "X-Auth-Username", "X-Auth-Roles", "X-Auth-Session-Id", "X-Auth-Amr")
    }
    seen = whoami(api, member["access_token"], forged).json()["headers"]
    assert "forged" not in {value for name, value in seen.items() if name.startswith("x-auth-")}, seen
    assert {name for name in seen if name.startswith("x-auth-")} <= {
        "x-auth-user-id",
        "x-auth-username",
        "x-auth-roles",
        "x-auth-session-id",
        "x-auth-amr",
    }, seen
