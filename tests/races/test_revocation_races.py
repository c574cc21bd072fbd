"""The race battery: every revoking event against every way of getting a token, at once.

The promise (docs/ARCHITECTURE.md, "Revocation under concurrency"): a token
issued before a revoking event is cut off by it, a token issued after it
reflects it, whatever the interleaving. Each round releases the two requests
of a pair together from a ``threading.Barrier`` (one of them sometimes a
random moment later, so the whole window gets swept, bcrypt included). Then
every token the racing request obtained is tried on ``/api/v1/me`` (and
``/api/v1/admin`` for the role cases) and its refresh token is rotated: what
still works must not carry the revoked state. Any such token is a stale token
accepted; zero is the only pass, and no answer may be a 5xx.
"""

import os
import random
import secrets
import statistics
import threading
import time
from collections.abc import Callable

import pytest
import requests

from tests.helpers import NGINX_RATE_LIMIT_MESSAGE, bearer, random_user
from tests.races.tally import STACK_DESCRIPTION, SUMMARY, Tally

ROUNDS = int(os.environ.get("RACE_ROUNDS", "100"))
# Rounds whose racing requests were turned away before they could race (a
# busy password check) are run again, up to this many times the target.
MAX_ATTEMPTS_FACTOR = 3
TIMEOUT = 30


class Client:
    """One keep-alive connection's worth of requests to the race stack, counting 5xx."""

    def __init__(self, base_url: str, tally: Tally):
        self.base_url = base_url
        self.session = requests.Session()
        self.tally = tally

    def call(self, method: str, path: str, token: str | None = None, body=None) -> requests.Response:
        """Send one request; a polite retry on nginx's per-address limit; 5xx are recorded."""
        for _ in range(50):
            response = self.session.request(
                method,
                self.base_url + path,
                json=body,
                headers=bearer(token) if token else {},
                timeout=TIMEOUT,
            )
            if not _nginx_rate_limited(response):
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        if response.status_code >= 500:
            self.tally.server_errors.append(
                f"{method} {path} -> {response.status_code} {response.text[:200]}"
            )
        return response


def _nginx_rate_limited(response: requests.Response) -> bool:
    return (
        response.status_code == 429
        and bool(response.content)
        and response.json().get("message") == NGINX_RATE_LIMIT_MESSAGE
    )


def race(first: Callable[[], requests.Response], second: Callable[[], requests.Response], delays=(0, 0)):
    """Run both calls released together by a barrier (each after its delay); both responses."""
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(index: int, call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        if delays[index]:
            time.sleep(delays[index])
        try:
            results[index] = call()
        except Exception as exc:  # a broken connection is an answer too, and must be seen
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


class Battery:
    """The pairs, run against one stack as two clients (the revoker and the issuer)."""

    def __init__(self, race_stack, tally: Tally):
        self.stack = race_stack
        self.tally = tally
        self.revoker = Client(race_stack.base_url, tally)
        self.issuer = Client(race_stack.base_url, tally)
        self.checker = Client(race_stack.base_url, tally)
        self._admin_token = None
        self._admin_token_at = 0.0

    # --- set-up helpers -------------------------------------------------

    def admin_token(self) -> str:
        """An admin access token, renewed well before it could expire."""
        if self._admin_token is None or time.monotonic() - self._admin_token_at > 300:
            self._admin_token = self.login(self.stack.admin_username, self.stack.admin_password)[
                "access_token"
            ]
            self._admin_token_at = time.monotonic()
        return self._admin_token

    def signup(self) -> dict:
        """A new user; its signup fields."""
        fields = random_user()
        response = self.checker.call("POST", "/auth/signup", body=fields)
        assert response.status_code == 201, response.text
        return {**fields, "username": response.json()["username"]}

    def login(self, username: str, password: str) -> dict:
        """A token response, waiting out a busy password check if need be."""
        for _ in range(50):
            response = self.checker.call(
                "POST", "/auth/login", body={"username": username, "password": password}
            )
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        assert response.status_code == 200, response.text
        return response.json()

    def set_role(self, username: str, role: str, present: bool) -> None:
        """Grant or remove a role as the admin."""
        method = "PUT" if present else "DELETE"
        response = self.checker.call(method, f"/auth/users/{username}/roles/{role}", self.admin_token())
        assert response.status_code == 204, response.text

    def session_id(self, access_token: str) -> str:
        """The session id of a working access token."""
        response = self.checker.call("GET", "/api/v1/me", access_token)
        assert response.status_code == 200, response.text
        return response.json()["session_id"]

    # --- checks ---------------------------------------------------------

    def stale(self, what: str) -> None:
        """Count one stale token accepted."""
        self.tally.stale += 1
        if len(self.tally.stale_examples) < 5:
            self.tally.stale_examples.append(what)

    def check_dead(self, tokens: dict, what: str) -> None:
        """Every token of a pair issued before a session-ending event must be refused."""
        if self.checker.call("GET", "/api/v1/me", tokens["access_token"]).status_code == 200:
            self.stale(f"{what}: access token accepted by /api/v1/me")
        refreshed = self.checker.call(
            "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]}
        )
        if refreshed.status_code == 200:
            self.stale(f"{what}: refresh token rotated")
            if self.checker.call("GET", "/api/v1/me", refreshed.json()["access_token"]).status_code == 200:
                self.stale(f"{what}: its rotated access token accepted")

    def check_without_role(self, tokens: dict, role: str, what: str) -> dict | None:
        """A token pair after a role removal: nothing that works may carry the role.

        Returns the pair the refresh token rotated into (for the next round), if any.
        """
        self._check_access_without_role(tokens["access_token"], role, what)
        refreshed = self.checker.call(
            "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]}
        )
        if refreshed.status_code != 200:
            return None
        self._check_access_without_role(refreshed.json()["access_token"], role, f"{what}, rotated")
        return refreshed.json()

    def _check_access_without_role(self, access_token: str, role: str, what: str) -> None:
        me = self.checker.call("GET", "/api/v1/me", access_token)
        if me.status_code == 200 and role in me.json()["roles"]:
            self.stale(f"{what}: /api/v1/me accepted a token with {role!r}")
        if role == "admin" and self.checker.call("GET", "/api/v1/admin", access_token).status_code == 200:
            self.stale(f"{what}: /api/v1/admin accepted the token")

    # --- the pairs ------------------------------------------------------
    # Each returns True if the round raced (both requests were served), False to run it again.

    def role_removal_vs_refresh(self, state: dict, delays) -> bool:
        if "user" not in state:
            state["user"] = self.signup()
            state["tokens"] = self.login(state["user"]["username"], state["user"]["password"])
        user = state["user"]
        self.set_role(user["username"], "admin", present=True)
        removal, refresh = race(
            lambda: self.revoker.call(
                "DELETE", f"/auth/users/{user['username']}/roles/admin", self.admin_token()
            ),
            lambda: self.issuer.call(
                "POST", "/auth/refresh", body={"refresh_token": state["tokens"]["refresh_token"]}
            ),
            delays,
        )
        self.tally.outcomes[f"removal {removal.status_code} / refresh {refresh.status_code}"] += 1
        assert removal.status_code == 204, removal.text
        assert refresh.status_code == 200, refresh.text
        state["tokens"] = self.check_without_role(refresh.json(), "admin", "refresh") or self.login(
            user["username"], user["password"]
        )
        return True

    def role_removal_vs_login(self, state: dict, delays) -> bool:
        if "user" not in state:
            state["user"] = self.signup()
        user = state["user"]
        self.set_role(user["username"], "admin", present=True)
        removal, login = race(
            lambda: self.revoker.call(
                "DELETE", f"/auth/users/{user['username']}/roles/admin", self.admin_token()
            ),
            lambda: self.issuer.call(
                "POST", "/auth/login", body={"username": user["username"], "password": user["password"]}
            ),
            delays,
        )
        self.tally.outcomes[f"removal {removal.status_code} / login {login.status_code}"] += 1
        assert removal.status_code == 204, removal.text
        if login.status_code == 429:
            return False
        assert login.status_code == 200, login.text
        self.check_without_role(login.json(), "admin", "login")
        return True

    def password_change_vs_login(self, state: dict, delays) -> bool:
        if "user" not in state:
            state["user"] = self.signup()
            state["actor"] = self.login(state["user"]["username"], state["user"]["password"])["access_token"]
        user = state["user"]
        old, new = user["password"], "pw-" + secrets.token_hex(8)
        change, login = race(
            lambda: self.revoker.call(
                "POST", "/auth/password", state["actor"], {"current_password": old, "new_password": new}
            ),
            lambda: self.issuer.call(
                "POST", "/auth/login", body={"username": user["username"], "password": old}
            ),
            delays,
        )
        self.tally.outcomes[f"change {change.status_code} / login {login.status_code}"] += 1
        if change.status_code == 204:
            user["password"] = new
        if change.status_code == 429 or login.status_code == 429:
            return False
        assert change.status_code == 204, change.text
        assert login.status_code in (200, 401), login.text
        if login.status_code == 200:
            self.check_dead(login.json(), "login with the old password")
        else:
            # Each refused login counts towards the account's throttle: a new
            # user before it closes (a stack with LOGIN_MAX_FAILURES=5).
            state["refused"] = state.get("refused", 0) + 1
            if state["refused"] >= 3:
                state.clear()
        return True

    def disable_vs_login(self, state: dict, delays) -> bool:
        user = self.signup()
        disable, login = race(
            lambda: self.revoker.call("POST", f"/auth/users/{user['username']}/disable", self.admin_token()),
            lambda: self.issuer.call(
                "POST", "/auth/login", body={"username": user["username"], "password": user["password"]}
            ),
            delays,
        )
        self.tally.outcomes[f"disable {disable.status_code} / login {login.status_code}"] += 1
        assert disable.status_code == 204, disable.text
        if login.status_code == 429:
            return False
        assert login.status_code in (200, 401), login.text
        if login.status_code == 200:
            self.check_dead(login.json(), "login")
        return True

    def logout_all_vs_refresh(self, state: dict, delays) -> bool:
        if "user" not in state:
            state["user"] = self.signup()
        user = state["user"]
        tokens = self.login(user["username"], user["password"])
        logout, refresh = race(
            lambda: self.revoker.call("POST", "/auth/logout-all", tokens["access_token"]),
            lambda: self.issuer.call(
                "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]}
            ),
            delays,
        )
        self.tally.outcomes[f"logout-all {logout.status_code} / refresh {refresh.status_code}"] += 1
        assert logout.status_code == 204, logout.text
        assert refresh.status_code in (200, 401), refresh.text
        self.check_dead(tokens, "the pair logged out")
        if refresh.status_code == 200:
            self.check_dead(refresh.json(), "refresh")
        return True

    def session_delete_vs_refresh(self, state: dict, delays) -> bool:
        if "user" not in state:
            state["user"] = self.signup()
            state["actor"] = self.login(state["user"]["username"], state["user"]["password"])["access_token"]
        user = state["user"]
        target = self.login(user["username"], user["password"])
        target_id = self.session_id(target["access_token"])
        delete, refresh = race(
            lambda: self.revoker.call("DELETE", f"/auth/sessions/{target_id}", state["actor"]),
            lambda: self.issuer.call(
                "POST", "/auth/refresh", body={"refresh_token": target["refresh_token"]}
            ),
            delays,
        )
        self.tally.outcomes[f"delete {delete.status_code} / refresh {refresh.status_code}"] += 1
        assert delete.status_code == 204, delete.text
        assert refresh.status_code in (200, 401), refresh.text
        self.check_dead(target, "the deleted session's pair")
        if refresh.status_code == 200:
            self.check_dead(refresh.json(), "refresh")
        return True

    def disable_vs_refresh(self, state: dict, delays) -> bool:
        user = self.signup()
        tokens = self.login(user["username"], user["password"])
        disable, refresh = race(
            lambda: self.revoker.call("POST", f"/auth/users/{user['username']}/disable", self.admin_token()),
            lambda: self.issuer.call(
                "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]}
            ),
            delays,
        )
        self.tally.outcomes[f"disable {disable.status_code} / refresh {refresh.status_code}"] += 1
        assert disable.status_code == 204, disable.text
        assert refresh.status_code in (200, 401), refresh.text
        self.check_dead(tokens, "the disabled user's pair")
        if refresh.status_code == 200:
            self.check_dead(refresh.json(), "refresh")
        return True


# (pair, how many logins long the window to sweep is; 0: a refresh's few milliseconds).
# A password change runs two bcrypts before it commits, so a login racing it
# must be able to start up to two logins' time later.
PAIRS = {
    "role removal vs refresh": (Battery.role_removal_vs_refresh, 0),
    "role removal vs login": (Battery.role_removal_vs_login, 1),
    "password change vs login": (Battery.password_change_vs_login, 2),
    "disable vs login": (Battery.disable_vs_login, 1),
    "logout-all vs refresh": (Battery.logout_all_vs_refresh, 0),
    "session delete vs refresh": (Battery.session_delete_vs_refresh, 0),
    "disable vs refresh": (Battery.disable_vs_refresh, 0),
}


def login_duration(battery: Battery) -> float:
    """How long a login takes on this stack (median of a few): the window to sweep."""
    user = battery.signup()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        battery.login(user["username"], user["password"])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def round_delays(rng: random.Random, window: float) -> tuple[float, float]:
    """Delays for (revoker, issuer): a third of rounds none, else one side late within the window."""
    kind = rng.randrange(3)
    if kind == 0:
        return (0, 0)
    if kind == 1:
        return (rng.uniform(0, window), 0)
    return (0, rng.uniform(0, window))


@pytest.mark.parametrize("pair", list(PAIRS))
def test_no_stale_token_survives_a_race(race_stack, pair):
    run_round, sweep = PAIRS[pair]
    tally = SUMMARY.setdefault(pair, Tally())
    battery = Battery(race_stack, tally)
    # The revoker may start anywhere in the issuer's window: a login's is its
    # bcrypt, a refresh's a few milliseconds.
    window = sweep * login_duration(battery) if sweep else 0.004
    if not STACK_DESCRIPTION:
        STACK_DESCRIPTION.append(race_stack.description)
    started = time.monotonic()
    rng = random.Random(f"{pair}-{secrets.randbits(32)}")
    state: dict = {}
    attempts = 0
    while tally.rounds < ROUNDS and attempts < ROUNDS * MAX_ATTEMPTS_FACTOR:
        attempts += 1
        if run_round(battery, state, round_delays(rng, window)):
            tally.rounds += 1
        else:
            tally.retried += 1
    tally.seconds = time.monotonic() - started
    report = f"{pair}: {tally.stale} stale in {tally.rounds} rounds; {dict(tally.outcomes)}"
    report += f"; {tally.stale_examples}"
    assert not tally.server_errors, tally.server_errors[:5]
    assert tally.rounds >= ROUNDS, report
    assert tally.stale == 0, report
