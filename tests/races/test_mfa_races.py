"""Second factors under concurrency: a code is taken once, and revoking events win over a second step.

The same barrier harness as the revocation battery (``race``): each round
releases two requests together, one of them sometimes a random moment later.

- **one recovery code, two second steps**: exactly one signs in, the other
  gets 401 ``invalid_mfa_code``;
- **one TOTP code, two second steps**: the same;
- **second step vs turning TOTP off**: a step that signed in must have
  opened its session before the factor went (the user's own event list,
  ordered by the row lock both take, says which came first);
- **second step vs an admin's reset**: nothing the step got may still work.

Zero violations is the only pass, and no answer may be a 5xx.
"""

import os
import random
import secrets
import time

import pytest

from tests.races.tally import STACK_DESCRIPTION, SUMMARY, Tally
from tests.races.test_revocation_races import Battery, login_duration, race, round_delays
from tests.totp_codes import oathtool_code

ROUNDS = int(os.environ.get("MFA_RACE_ROUNDS", "30"))
# A second step is a few milliseconds of work: the window to sweep.
WINDOW = 0.01


class MfaBattery(Battery):
    """The second-factor pairs."""

    def enrolled_user(self) -> dict:
        """A new user with TOTP on: fields, a session's access token, the secret's URI, recovery codes."""
        user = self.signup()
        actor = self.login(user["username"], user["password"])["access_token"]
        setup = self.checker.call("POST", "/auth/mfa/totp", actor, {"password": user["password"]})
        assert setup.status_code == 200, setup.text
        uri = setup.json()["otpauth_uri"]
        confirm = self.checker.call("POST", "/auth/mfa/totp/confirm", actor, {"code": oathtool_code(uri)})
        assert confirm.status_code == 200, confirm.text
        return {**user, "actor": actor, "uri": uri, "codes": confirm.json()["recovery_codes"]}

    def first_step(self, user: dict) -> str:
        """A fresh ``mfa_token`` of the user (the password step)."""
        challenge = self.login(user["username"], user["password"])
        assert challenge.get("mfa_required") is True, challenge
        return challenge["mfa_token"]

    def second_step(self, client, mfa_token: str, code: str):
        """The request of the second step."""
        return lambda: client.call("POST", "/auth/login/mfa", body={"mfa_token": mfa_token, "code": code})

    def exactly_one_wins(self, first, second, what: str) -> None:
        """One 200 and one 401 ``invalid_mfa_code``; anything else is a violation."""
        statuses = sorted((first.status_code, second.status_code))
        self.tally.outcomes[f"{statuses[0]} / {statuses[1]}"] += 1
        loser = first if first.status_code != 200 else second
        if statuses != [200, 401] or loser.json().get("error") != "invalid_mfa_code":
            self.stale(
                f"{what}: {first.status_code} {first.text[:80]} / {second.status_code} {second.text[:80]}"
            )

    # --- the pairs ------------------------------------------------------

    def recovery_code_twice(self, state: dict, delays) -> bool:
        if not state.get("codes"):
            state.update(self.enrolled_user())
        code = state["codes"].pop()
        first, second = self.first_step(state), self.first_step(state)
        results = race(
            self.second_step(self.revoker, first, code), self.second_step(self.issuer, second, code), delays
        )
        self.exactly_one_wins(*results, "one recovery code")
        return True

    def totp_code_twice(self, state: dict, delays) -> bool:
        # A code is taken once per 30-second step: a new user each round.
        user = self.enrolled_user()
        code = oathtool_code(user["uri"], steps_ahead=1)
        first, second = self.first_step(user), self.first_step(user)
        results = race(
            self.second_step(self.revoker, first, code), self.second_step(self.issuer, second, code), delays
        )
        self.exactly_one_wins(*results, "one TOTP code")
        return True

    def step_vs_disable(self, state: dict, delays) -> bool:
        user = self.enrolled_user()
        mfa_token = self.first_step(user)
        body = {"password": user["password"], "code": user["codes"][0]}
        disable, step = race(
            lambda: self.revoker.call("DELETE", "/auth/mfa/totp", user["actor"], body),
            self.second_step(self.issuer, mfa_token, oathtool_code(user["uri"], steps_ahead=1)),
            delays,
        )
        self.tally.outcomes[f"disable {disable.status_code} / step {step.status_code}"] += 1
        assert disable.status_code == 204, disable.text
        assert step.status_code in (200, 401), step.text
        if step.status_code == 401:
            assert step.json()["error"] == "invalid_mfa_token", step.text
            return True
        session_id = self.session_id(step.json()["access_token"])
        events = self.checker.call("GET", "/auth/events?limit=100", user["actor"]).json()["events"]
        opened = [
            int(e["id"])
            for e in events
            if e["action"] == "authn_login_success" and e["session_id"] == session_id
        ]
        disabled = [int(e["id"]) for e in events if e["action"] == "mfa_disabled"]
        if not opened or not disabled or opened[0] > disabled[0]:
            self.stale(f"step vs disable: a session opened after TOTP was off ({opened}, {disabled})")
        return True

    def step_vs_admin_reset(self, state: dict, delays) -> bool:
        user = self.enrolled_user()
        mfa_token = self.first_step(user)
        reset, step = race(
            lambda: self.revoker.call("DELETE", f"/auth/users/{user['username']}/mfa", self.admin_token()),
            self.second_step(self.issuer, mfa_token, oathtool_code(user["uri"], steps_ahead=1)),
            delays,
        )
        self.tally.outcomes[f"reset {reset.status_code} / step {step.status_code}"] += 1
        assert reset.status_code == 204, reset.text
        assert step.status_code in (200, 401), step.text
        if step.status_code == 200:
            self.check_dead(step.json(), "second step vs admin reset")
        else:
            assert step.json()["error"] == "invalid_mfa_token", step.text
        return True


# (pair, how many logins long the window to sweep is; 0: a second step's few milliseconds).
# Turning TOTP off checks the password first (one bcrypt) before it locks
# the row: the step must be able to start that much later.
PAIRS = {
    "one recovery code twice": (MfaBattery.recovery_code_twice, 0),
    "one TOTP code twice": (MfaBattery.totp_code_twice, 0),
    "second step vs disable": (MfaBattery.step_vs_disable, 1.5),
    "second step vs admin reset": (MfaBattery.step_vs_admin_reset, 0),
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_second_factor_races(race_stack, pair):
    run_round, sweep = PAIRS[pair]
    tally = SUMMARY.setdefault(pair, Tally())
    battery = MfaBattery(race_stack, tally)
    window = sweep * login_duration(battery) if sweep else WINDOW
    if not STACK_DESCRIPTION:
        STACK_DESCRIPTION.append(race_stack.description)
    started = time.monotonic()
    rng = random.Random(f"{pair}-{secrets.randbits(32)}")
    state: dict = {}
    while tally.rounds < ROUNDS:
        if run_round(battery, state, round_delays(rng, window)):
            tally.rounds += 1
    tally.seconds = time.monotonic() - started
    report = f"{pair}: {tally.stale} violations in {tally.rounds} rounds; {dict(tally.outcomes)}"
    report += f"; {tally.stale_examples}"
    assert not tally.server_errors, tally.server_errors[:5]
    assert tally.stale == 0, report
