"""Faults: Redis and Postgres stopped or stalled, workers killed, Redis data lost.

Each test breaks one part of the running stack through ``STACK_CONTROL``,
checks what clients see through nginx, and leaves the stack healthy.
"""

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.faults.conftest import wait_for_status
from tests.helpers import assert_error, patient_post, random_user

pytestmark = pytest.mark.slow


def test_redis_stopped_fails_closed_and_recovers_by_itself(api, stack, logged_in):
    token = logged_in["access_token"]
    stack.run("stop", "redis")
    response = api.me(token)
    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"]
    assert_error(api.get("/api/healthz"), 503, "unavailable")
    # Logging out can't write the revocation: refused, not silently dropped.
    assert_error(api.post("/auth/logout", token=token), 503, "unavailable")
    stack.run("start", "redis")
    assert wait_for_status(lambda: api.me(token), 200).json()["id"] == logged_in["id"]
    # The refused logout left the session whole; it logs out normally now.
    assert api.post("/auth/logout", token=token).status_code == 204
    assert api.me(token).status_code == 401


def test_redis_stalled_answers_503_not_a_hung_worker(api, stack, logged_in):
    # The service's own Redis timeout answers (503 "unavailable", its JSON),
    # not nginx giving up on a hung worker (504): that is what shows the wait
    # is bounded, whatever this machine's speed.
    token = logged_in["access_token"]
    stack.run("signal", "STOP", "redis")
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(lambda _: api.me(token), range(16)))
        for response in results:
            assert_error(response, 503, "unavailable")
    finally:
        stack.run("signal", "CONT", "redis")
    assert wait_for_status(lambda: api.me(token), 200).status_code == 200


def test_postgres_stopped_auth_answers_503_and_issued_tokens_keep_working(api, stack, logged_in):
    stack.run("stop", "postgres")
    try:
        assert_error(api.post("/auth/signup", random_user()), 503, "unavailable")
        login = {"username": logged_in["username"], "password": logged_in["password"]}
        assert_error(api.post("/auth/login", login), 503, "unavailable")
        assert_error(
            api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}), 503, "unavailable"
        )
        assert_error(api.get("/auth/healthz"), 503, "unavailable")
        # The API never touches Postgres.
        assert api.me(logged_in["access_token"]).status_code == 200
    finally:
        stack.run("start", "postgres")
    wait_for_status(lambda: api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}), 200)


def test_postgres_stalled_auth_answers_503_not_a_hung_worker(api, base_url, stack, logged_in):
    # The service's own deadline on each connection answers (503 "unavailable",
    # its JSON), before nginx would give up on a hung worker (504 after 30 s):
    # that shows the wait is bounded, however busy the machine.
    stack.run("signal", "STOP", "postgres")
    try:
        login = {"username": logged_in["username"], "password": logged_in["password"]}
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(lambda _: patient_post(base_url + "/auth/login", login), range(6)))
        for response in results:
            assert_error(response, 503, "unavailable")
        assert api.me(logged_in["access_token"]).status_code == 200
    finally:
        stack.run("signal", "CONT", "postgres")
    wait_for_status(lambda: api.post("/auth/login", login), 200, timeout=20)


def test_a_worker_killed_mid_request_leaves_no_duplicates(api, base_url, stack):
    users = [random_user() for _ in range(30)]

    answers = []  # (status, error code): kept whole, so a failure shows what came back

    def signup(fields):
        try:
            response = patient_post(base_url + "/auth/signup", fields)
        except requests.RequestException as exc:
            answers.append((None, type(exc).__name__))
            return None
        answers.append((response.status_code, response.text[:120] if response.status_code != 201 else ""))
        return response.status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        pending = [pool.submit(signup, fields) for fields in users]
        time.sleep(0.05)
        stack.run("kill-worker", "auth_service")
        statuses = [future.result() for future in pending]
    assert all(status in (201, 502, None) for status in statuses), Counter(answers)
    # The next requests succeed (the master replaced the worker)...
    fresh = wait_for_status(lambda: api.post("/auth/signup", random_user()), 201)
    assert fresh.status_code == 201
    # ...and every user exists at most once: signing up again is a conflict
    # for those whose first try landed, a success for the others.
    for fields, status in zip(users, statuses, strict=True):
        again = api.post("/auth/signup", fields).status_code
        assert again in (201, 409)
        if status == 201:
            assert again == 409


def test_a_revoked_token_stays_revoked_after_redis_is_killed(api, stack, new_user):
    revoked = api.login(new_user["username"], new_user["password"])
    alive = api.login(new_user["username"], new_user["password"])
    api.post("/auth/logout", token=revoked["access_token"])
    stack.run("signal", "KILL", "redis")  # supervisord restarts it from the append-only file
    wait_for_status(lambda: api.me(alive["access_token"]), 200, timeout=30)
    assert_error(api.me(revoked["access_token"]), 401, "invalid_token")


def test_a_revoked_token_stays_revoked_after_redis_loses_everything(api, stack, new_user):
    revoked = api.login(new_user["username"], new_user["password"])
    alive = api.login(new_user["username"], new_user["password"])
    api.post("/auth/logout", token=revoked["access_token"])
    cut_off = api.create_user()
    cut_off_tokens = api.login(cut_off["username"], cut_off["password"])
    api.post("/auth/logout-all", token=cut_off_tokens["access_token"])
    stack.run("redis-cli", "FLUSHALL")
    # Until auth_service has rebuilt the list from Postgres, nothing passes.
    first = api.me(revoked["access_token"])
    assert first.status_code in (401, 503)
    wait_for_status(lambda: api.me(alive["access_token"]), 200, timeout=10)
    assert_error(api.me(revoked["access_token"]), 401, "invalid_token")
    assert_error(api.me(cut_off_tokens["access_token"]), 401, "invalid_token")


def test_nginx_own_502_and_504_carry_the_security_headers(api, stack):
    stack.run("stop", "auth_service")
    try:
        # 502 when the connection is refused; 504 when the stopped
        # container's address no longer answers within proxy_connect_timeout.
        deadline = time.monotonic() + 15
        while (response := api.get("/auth/healthz")).status_code not in (502, 504):
            assert time.monotonic() < deadline, response.status_code
            time.sleep(0.2)
        codes = {502: "bad_gateway", 504: "gateway_timeout"}
        assert_error(response, response.status_code, codes[response.status_code])
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Request-ID"]
    finally:
        stack.run("start", "auth_service")
        # In compose the restarted container may have a new address, which
        # nginx only looks up when it starts.
        stack.run("stop", "nginx")
        stack.run("start", "nginx")
