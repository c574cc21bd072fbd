"""Postgres's log does not echo personal data from an error's DETAIL line."""

import time

from tests.helpers import random_user


def test_a_unique_violation_leaves_no_username_or_email_in_the_postgres_log(api, privileges):
    taken = random_user()
    assert api.post("/auth/signup", taken).status_code == 201
    again = {**random_user(), "username": taken["username"]}
    assert api.post("/auth/signup", again).status_code == 409
    time.sleep(0.5)  # let the log line reach the log
    log = privileges.run("logs", "postgres").stdout
    # The refusal itself is logged (so the check below can fail)...
    assert "duplicate key value violates unique constraint" in log
    # ...without the DETAIL line "Key (username)=(...) already exists."
    assert taken["username"] not in log
    assert again["email"] not in log
