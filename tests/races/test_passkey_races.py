"""Passkeys under concurrency: a revoking event wins over a passkey sign-in, and a challenge is taken once.

The same barrier harness as the revocation battery (``race``); answers come
from a software authenticator (tests/soft_authenticator.py).

- **passkey sign-in vs disable**: a sign-in that got tokens must have
  opened its session before the disable, which then ended it: nothing it
  got may still work (the ``check_dead`` of the revocation battery);
- **passkey second step vs an admin's reset**: the same;
- **one answer, two sign-ins**: one challenge, two requests at once with
  the same signed answer: exactly one signs in.

Zero violations is the only pass, and no answer may be a 5xx.
"""

import os
import random
import secrets
import time
import urllib.parse

import pytest

from tests.races.tally import STACK_DESCRIPTION, SUMMARY, Tally
from tests.races.test_revocation_races import Battery, race, round_delays
from tests.soft_authenticator import SoftAuthenticator
from tests.stack_env import stack_setting

ROUNDS = int(os.environ.get("PASSKEY_RACE_ROUNDS", "30"))
# A passkey sign-in or a disable is a few milliseconds of work: the window to sweep.
WINDOW = 0.01


class PasskeyBattery(Battery):
    """The passkey pairs."""

    def enrolled_user(self) -> dict:
        """A new user with a passkey: fields, a session's access token, the authenticator."""
        public_url = stack_setting("PUBLIC_URL").rstrip("/")
        user = self.signup()
        actor = self.login(user["username"], user["password"])["access_token"]
        options = self.checker.call("POST", "/auth/passkeys/register/options", actor, {})
        assert options.status_code == 200, options.text
        key = SoftAuthenticator(public_url)
        added = self.checker.call(
            "POST", "/auth/passkeys/register", actor, {"credential": key.create(options.json()), "name": "k"}
        )
        assert added.status_code == 201, added.text
        rp_id = urllib.parse.urlsplit(public_url).hostname or ""
        return {**user, "actor": actor, "key": key, "rp_id": rp_id}

    def signed_answer(self, user: dict) -> dict:
        """A sign-in answer to fresh login options."""
        options = self.checker.call("POST", "/auth/passkeys/login/options", body={})
        assert options.status_code == 200, options.text
        return user["key"].get(options.json(), user["rp_id"])

    def sign_in(self, client, credential: dict):
        """The request of a passwordless sign-in."""
        return lambda: client.call("POST", "/auth/passkeys/login", body={"credential": credential})

    def refused_or_dead(self, response, what: str) -> None:
        """A sign-in racing a revoking event: refused (401) or everything it got is dead."""
        if isinstance(response, Exception):
            raise response
        assert response.status_code in (200, 401), response.text
        if response.status_code == 200:
            self.check_dead(response.json(), what)
        else:
            assert response.json()["error"] in ("invalid_credentials", "invalid_mfa_token"), response.text

    # --- the pairs ------------------------------------------------------

    def sign_in_vs_disable(self, state: dict, delays) -> bool:
        user = self.enrolled_user()
        credential = self.signed_answer(user)
        disable, sign_in = race(
            lambda: self.revoker.call("POST", f"/auth/users/{user['username']}/disable", self.admin_token()),
            self.sign_in(self.issuer, credential),
            delays,
        )
        self.tally.outcomes[f"disable {disable.status_code} / sign-in {sign_in.status_code}"] += 1
        assert disable.status_code == 204, disable.text
        self.refused_or_dead(sign_in, "passkey sign-in vs disable")
        return True

    def second_step_vs_admin_reset(self, state: dict, delays) -> bool:
        user = self.enrolled_user()
        challenge = self.checker.call(
            "POST", "/auth/login", body={"username": user["username"], "password": user["password"]}
        ).json()
        mfa_token = challenge["mfa_token"]
        options = self.checker.call("POST", "/auth/login/mfa/passkey/options", body={"mfa_token": mfa_token})
        assert options.status_code == 200, options.text
        credential = user["key"].get(options.json(), user["rp_id"])
        reset, step = race(
            lambda: self.revoker.call("DELETE", f"/auth/users/{user['username']}/mfa", self.admin_token()),
            lambda: self.issuer.call(
                "POST", "/auth/login/mfa", body={"mfa_token": mfa_token, "credential": credential}
            ),
            delays,
        )
        self.tally.outcomes[f"reset {reset.status_code} / step {step.status_code}"] += 1
        assert reset.status_code == 204, reset.text
        self.refused_or_dead(step, "passkey second step vs admin reset")
        return True

    def one_answer_twice(self, state: dict, delays) -> bool:
        if "key" not in state:
            state.update(self.enrolled_user())
        credential = self.signed_answer(state)
        first, second = race(
            self.sign_in(self.revoker, credential), self.sign_in(self.issuer, credential), delays
        )
        statuses = sorted((first.status_code, second.status_code))
        self.tally.outcomes[f"{statuses[0]} / {statuses[1]}"] += 1
        if statuses != [200, 401]:
            self.stale(f"one answer twice: {first.status_code} {first.text[:80]} / {second.status_code}")
        return True


PAIRS = {
    "passkey sign-in vs disable": PasskeyBattery.sign_in_vs_disable,
    "passkey second step vs admin reset": PasskeyBattery.second_step_vs_admin_reset,
    "one passkey answer twice": PasskeyBattery.one_answer_twice,
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_passkey_races(race_stack, pair):
    run_round = PAIRS[pair]
    tally = SUMMARY.setdefault(pair, Tally())
    battery = PasskeyBattery(race_stack, tally)
    if not STACK_DESCRIPTION:
        STACK_DESCRIPTION.append(race_stack.description)
    started = time.monotonic()
    rng = random.Random(f"{pair}-{secrets.randbits(32)}")
    state: dict = {}
    while tally.rounds < ROUNDS:
        if run_round(battery, state, round_delays(rng, WINDOW)):
            tally.rounds += 1
    tally.seconds = time.monotonic() - started
    report = f"{pair}: {tally.stale} violations in {tally.rounds} rounds; {dict(tally.outcomes)}"
    report += f"; {tally.stale_examples}"
    assert not tally.server_errors, tally.server_errors[:5]
    assert tally.stale == 0, report
