"""The race battery's personal-access-token pairs: revoking events against creating and using a token.

The same promise as ``test_revocation_races`` (docs/ARCHITECTURE.md,
"Personal access tokens"): a token created before a role removal or a
disable reflects it from the next request on, one created after reflects
it at once, and a revoked token is refused on the next request, whatever
the interleaving. Each round releases the pair from a barrier (one side
sometimes a random moment later), then tries the token; any stale token
accepted fails the pair, and no answer may be a 5xx.
"""

import random
import secrets
import time

import pytest

from tests.races.tally import STACK_DESCRIPTION, SUMMARY, Tally
from tests.races.test_revocation_races import (
    MAX_ATTEMPTS_FACTOR,
    ROUNDS,
    Battery,
    race,
    round_delays,
)

# None of these pairs runs bcrypt while racing: a few milliseconds to sweep.
WINDOW_SECONDS = 0.004


class TokenBattery(Battery):
    """The personal-access-token pairs."""

    def create_token(self, access_token: str, body: dict | None = None):
        """POST /auth/tokens as the issuer (the racing side)."""
        return self.issuer.call("POST", "/auth/tokens", access_token, {"name": "race", **(body or {})})

    def fresh_user(self, state: dict, role: str | None = None) -> dict:
        """The round's user (with ``role`` granted) and a fresh access token of theirs."""
        # A new user well before the 50 live tokens a user may hold.
        if "user" not in state or state.get("tokens", 0) >= 40:
            state.clear()
            state["user"] = self.signup()
        state["tokens"] = state.get("tokens", 0) + 1
        user = state["user"]
        if role:
            self.set_role(user["username"], role, present=True)
        state["access"] = self.login(user["username"], user["password"])["access_token"]
        return user

    def check_token_without_role(self, token: str, role: str, what: str) -> None:
        """A personal access token after a role removal: if it works, it must not carry the role."""
        me = self.checker.call("GET", "/api/v1/me", token)
        if me.status_code == 200 and role in me.json()["roles"]:
            self.stale(f"{what}: /api/v1/me shows {role!r}")
        if self.checker.call("GET", "/api/v1/admin", token).status_code == 200:
            self.stale(f"{what}: /api/v1/admin accepted the token")

    def check_token_dead(self, token: str, what: str) -> None:
        """A personal access token that must be refused."""
        if self.checker.call("GET", "/api/v1/me", token).status_code != 401:
            self.stale(f"{what}: /api/v1/me accepted the token")

    # --- the pairs: True if the round raced ----------------------------------------

    def role_removal_vs_creation(self, state: dict, delays) -> bool:
        user = self.fresh_user(state, role="admin")
        removal, created = race(
            lambda: self.revoker.call(
                "DELETE", f"/auth/users/{user['username']}/roles/admin", self.admin_token()
            ),
            lambda: self.create_token(state["access"]),
            delays,
        )
        self.tally.outcomes[f"removal {removal.status_code} / create {created.status_code}"] += 1
        assert removal.status_code == 204, removal.text
        # The creating access token may have been cut off first (401).
        assert created.status_code in (201, 401), created.text
        if created.status_code == 201:
            self.check_token_without_role(created.json()["token"], "admin", "created during a removal")
        return True

    def role_removal_vs_use(self, state: dict, delays) -> bool:
        user = self.fresh_user(state, role="admin")
        response = self.checker.call("POST", "/auth/tokens", state["access"], {"name": "held"})
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        removal, use = race(
            lambda: self.revoker.call(
                "DELETE", f"/auth/users/{user['username']}/roles/admin", self.admin_token()
            ),
            lambda: self.issuer.call("GET", "/api/v1/admin", token),
            delays,
        )
        self.tally.outcomes[f"removal {removal.status_code} / use {use.status_code}"] += 1
        assert removal.status_code == 204, removal.text
        assert use.status_code in (200, 403), use.text
        self.check_token_without_role(token, "admin", "held through a removal")
        return True

    def revocation_vs_use(self, state: dict, delays) -> bool:
        self.fresh_user(state)
        response = self.checker.call("POST", "/auth/tokens", state["access"], {"name": "doomed"})
        assert response.status_code == 201, response.text
        created = response.json()
        revoke, use = race(
            lambda: self.revoker.call("DELETE", f"/auth/tokens/{created['id']}", state["access"]),
            lambda: self.issuer.call("GET", "/api/v1/me", created["token"]),
            delays,
        )
        self.tally.outcomes[f"revoke {revoke.status_code} / use {use.status_code}"] += 1
        assert revoke.status_code == 204, revoke.text
        assert use.status_code in (200, 401), use.text
        self.check_token_dead(created["token"], "revoked")
        return True

    def disable_vs_creation(self, state: dict, delays) -> bool:
        state.clear()
        user = self.fresh_user(state)
        disable, created = race(
            lambda: self.revoker.call("POST", f"/auth/users/{user['username']}/disable", self.admin_token()),
            lambda: self.create_token(state["access"]),
            delays,
        )
        self.tally.outcomes[f"disable {disable.status_code} / create {created.status_code}"] += 1
        assert disable.status_code == 204, disable.text
        assert created.status_code in (201, 401), created.text
        if created.status_code == 201:
            self.check_token_dead(created.json()["token"], "created during a disable")
        return True


PAIRS = {
    "role removal vs token creation": TokenBattery.role_removal_vs_creation,
    "role removal vs token use": TokenBattery.role_removal_vs_use,
    "token revocation vs use": TokenBattery.revocation_vs_use,
    "disable vs token creation": TokenBattery.disable_vs_creation,
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_no_stale_personal_access_token_survives_a_race(race_stack, pair):
    run_round = PAIRS[pair]
    tally = SUMMARY.setdefault(pair, Tally())
    battery = TokenBattery(race_stack, tally)
    if not STACK_DESCRIPTION:
        STACK_DESCRIPTION.append(race_stack.description)
    started = time.monotonic()
    rng = random.Random(f"{pair}-{secrets.randbits(32)}")
    state: dict = {}
    attempts = 0
    while tally.rounds < ROUNDS and attempts < ROUNDS * MAX_ATTEMPTS_FACTOR:
        attempts += 1
        if run_round(battery, state, round_delays(rng, WINDOW_SECONDS)):
            tally.rounds += 1
        else:
            tally.retried += 1
    tally.seconds = time.monotonic() - started
    report = f"{pair}: {tally.stale} stale in {tally.rounds} rounds; {dict(tally.outcomes)}"
    report += f"; {tally.stale_examples}"
    assert not tally.server_errors, tally.server_errors[:5]
    assert tally.rounds >= ROUNDS, report
    assert tally.stale == 0, report
