"""Moving between HS256 and EdDSA without logging anyone out (docs/OPERATIONS.md).

The EdDSA stack is stopped and started again with another ``JWT_ALG``, as
an operator would (``make down``, ``JWT_ALG=... make up``; the state folder
with Postgres, Redis and the key set is kept). Access tokens signed under
the old algorithm are refused from then on; a refresh (the refresh token is
opaque, kept in Postgres) gives a token of the new algorithm, so the session
lives on. The stack is left as it was found: EdDSA, the same key set.
"""

import dataclasses

import jwt
import pytest
import requests

from tests.helpers import access_token_jwks, assert_error


def _restart(eddsa_stack, algorithm: str) -> None:
    from runner import __main__ as stack_commands

    stack = dataclasses.replace(eddsa_stack.stack, env={**eddsa_stack.stack.env, "JWT_ALG": algorithm})
    stack_commands.cmd_down(stack)
    if stack_commands.cmd_up(stack) != 0:
        pytest.fail(f"the stack did not start again with JWT_ALG={algorithm}")
    requests.get(stack.base_url + "/auth/healthz", timeout=10).raise_for_status()


def _refresh(api, refresh_token: str) -> dict:
    response = api.post("/auth/refresh", {"refresh_token": refresh_token})
    assert response.status_code == 200, response.text
    return response.json()


def test_switching_the_algorithm_keeps_sessions_and_refuses_old_access_tokens(eddsa_stack, eddsa_api):
    user = eddsa_api.create_user()
    first = eddsa_api.login(user["username"], user["password"])
    eddsa_kid = jwt.get_unverified_header(first["access_token"])["kid"]
    try:
        _restart(eddsa_stack, "HS256")
        assert access_token_jwks(eddsa_api.get("/.well-known/jwks.json").json()) == []
        assert_error(eddsa_api.me(first["access_token"]), 401, "invalid_token")
        second = _refresh(eddsa_api, first["refresh_token"])
        assert jwt.get_unverified_header(second["access_token"])["alg"] == "HS256"
        assert eddsa_api.me(second["access_token"]).status_code == 200
    finally:
        _restart(eddsa_stack, "EdDSA")
    assert_error(eddsa_api.me(second["access_token"]), 401, "invalid_token")
    third = _refresh(eddsa_api, second["refresh_token"])
    header = jwt.get_unverified_header(third["access_token"])
    assert (header["alg"], header["kid"]) == ("EdDSA", eddsa_kid)  # the kept key set
    me = eddsa_api.me(third["access_token"])
    assert me.status_code == 200 and me.json()["username"] == user["username"]
