"""The race battery's single sign-on pair: one authorization code exchanged several times at once.

A code is single use, and a second use revokes what the first issued
(docs/ARCHITECTURE.md "Single sign-on"). Released together from a barrier,
at most one exchange may succeed, and whichever way the requests
interleave, the session a success opened must be ended by the others'
reuse: its access token is refused on the next request. No answer may be
a 5xx.
"""

import threading

import pytest
import requests

from tests.helpers import TIMEOUT, bearer
from tests.oidc.flow import Browserless, pkce_pair, query_of

ROUNDS = 8
AT_ONCE = 4
REDIRECT_URI = "https://app.example/callback"


def _admin_token(stack) -> str:
    answer = requests.post(
        stack.base_url + "/auth/login",
        json={"username": stack.admin_username, "password": stack.admin_password},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_a_code_exchanged_at_once_opens_no_session_that_survives(race_stack):
    base = race_stack.base_url
    discovery = requests.get(base + "/.well-known/openid-configuration", timeout=TIMEOUT)
    if discovery.status_code == 404:
        pytest.skip("this stack runs no OpenID Connect provider")
    public_url = discovery.json()["issuer"]
    admin = _admin_token(race_stack)
    client = requests.post(
        base + "/auth/oauth2/clients",
        json={"name": "race", "type": "confidential", "first_party": True, "redirect_uris": [REDIRECT_URI]},
        headers=bearer(admin),
        timeout=TIMEOUT,
    ).json()
    user = {
        "username": "race-" + pkce_pair()[0][:10].lower().replace("_", "x").replace("-", "x"),
        "password": "correct horse battery",
    }
    signup = requests.post(
        base + "/auth/signup", json={**user, "email": user["username"] + "@example.com"}, timeout=TIMEOUT
    )
    assert signup.status_code == 201, signup.text
    browser = Browserless(base, public_url)
    successes = 0
    for round_number in range(ROUNDS):
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": str(round_number),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        answer = browser.log_in(params, user) if round_number == 0 else browser.authorize(params)
        code = query_of(answer)["code"]
        barrier = threading.Barrier(AT_ONCE)
        results: list[requests.Response | None] = [None] * AT_ONCE

        def exchange(index: int, code=code, verifier=verifier, barrier=barrier, results=results) -> None:
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            }
            barrier.wait(timeout=30)
            results[index] = requests.post(
                base + "/auth/oauth2/token",
                data=form,
                auth=(client["client_id"], client["client_secret"]),
                timeout=60,
            )

        threads = [threading.Thread(target=exchange, args=(index,)) for index in range(AT_ONCE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        answers = [result for result in results if result is not None]
        assert len(answers) == AT_ONCE
        assert all(answer.status_code in (200, 400) for answer in answers), [a.status_code for a in answers]
        won = [answer for answer in answers if answer.status_code == 200]
        assert len(won) <= 1, "a code was exchanged twice"
        for answer in won:
            successes += 1
            me = requests.get(
                base + "/api/v1/me", headers=bearer(answer.json()["access_token"]), timeout=TIMEOUT
            )
            assert me.status_code == 401, "a reused code's session survived"
    print(f"oidc code race: {ROUNDS} rounds of {AT_ONCE}, {successes} exchanges won and then revoked")
