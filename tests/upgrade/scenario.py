"""What a user of an older version leaves behind, and what must still work after the upgrade.

``seed`` runs against the OLD stack (through nginx, as any client): accounts,
live sessions (refresh tokens), a session ended by logout (its access token
revoked) and, where that version mails reset links, a pending reset link read
from its mail sink. ``verify`` runs against TODAY's stack on the same data and
returns what failed (an empty list: the upgrade kept everything).
"""

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from tests.helpers import Api

RESET_SUBJECT = "Reset your password"
# The link's token rides in the URL fragment (tests/mailbox.py reads it the same way).
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_-]{43})\b")


@dataclass
class Seeded:
    """What the old stack handed out, to be checked against the new one."""

    accounts: list[dict[str, str]] = field(default_factory=list)  # username, email, password
    live_refresh_tokens: list[str] = field(default_factory=list)
    live_access_token: str = ""  # of a session still open: must still be accepted
    revoked_access_token: str = ""  # of a session ended by logout: must stay refused
    revoked_refresh_token: str = ""  # of that same session
    reset_account: dict[str, str] | None = None  # whose reset link is pending
    reset_token: str = ""


def _api(base_url: str) -> Api:
    return Api(base_url, requests.Session())


def _tokens(response: requests.Response, what: str) -> dict[str, str]:
    if response.status_code != 200:
        raise AssertionError(f"{what}: {response.status_code} {response.text}")
    body: dict[str, str] = response.json()
    return body


def seed(base_url: str, read_mail: Callable[[str], list[dict[str, str]]] | None) -> Seeded:
    """Leave accounts, sessions, a revoked token and (with ``read_mail``) a pending reset link behind."""
    api = _api(base_url)
    seeded = Seeded()
    for _ in range(3):
        name = "upg-" + secrets.token_hex(5)
        account = {
            "username": name,
            "email": f"{name}@example.com",
            "password": "pw-" + secrets.token_hex(10),
        }
        signup = api.post("/auth/signup", account)
        if signup.status_code != 201:
            raise AssertionError(f"signup on the old stack: {signup.status_code} {signup.text}")
        seeded.accounts.append(account)
    first, second, third = seeded.accounts
    login = {k: first[k] for k in ("username", "password")}
    # Two sessions of one account, one of them rotated once before the upgrade.
    one = _tokens(api.post("/auth/login", login), "login on the old stack")
    two = _tokens(api.post("/auth/login", login), "login on the old stack")
    rotated = _tokens(
        api.post("/auth/refresh", {"refresh_token": one["refresh_token"]}), "refresh on the old stack"
    )
    seeded.live_refresh_tokens += [rotated["refresh_token"], two["refresh_token"]]
    seeded.live_access_token = two["access_token"]
    # A session ended by logout: its access token is on the revocation list.
    ended = _tokens(
        api.post("/auth/login", {k: second[k] for k in ("username", "password")}), "login on the old stack"
    )
    logout = api.post("/auth/logout", token=ended["access_token"])
    if logout.status_code != 204:
        raise AssertionError(f"logout on the old stack: {logout.status_code} {logout.text}")
    if api.me(ended["access_token"]).status_code != 401:
        raise AssertionError("the old stack itself accepted a logged-out access token")
    seeded.revoked_access_token = ended["access_token"]
    seeded.revoked_refresh_token = ended["refresh_token"]
    kept = _tokens(
        api.post("/auth/login", {k: third[k] for k in ("username", "password")}), "login on the old stack"
    )
    seeded.live_refresh_tokens.append(kept["refresh_token"])
    if read_mail is not None:
        forgot = api.post("/auth/password/forgot", {"email": third["email"]})
        if forgot.status_code != 202:
            raise AssertionError(f"forgot password on the old stack: {forgot.status_code} {forgot.text}")
        seeded.reset_account = third
        seeded.reset_token = _wait_for_reset_token(read_mail, third["email"])
    return seeded


def _wait_for_reset_token(read_mail: Callable[[str], list[dict[str, str]]], address: str) -> str:
    """The token of the reset link mailed to ``address`` (the outbox sends within seconds)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in reversed(read_mail(address)):
            if message.get("subject") == RESET_SUBJECT:
                found = TOKEN_IN_LINK.search(message.get("body", ""))
                if found:
                    return found.group(1)
        time.sleep(0.5)
    raise AssertionError(f"no reset mail reached {address} within 60 s")


def verify(base_url: str, seeded: Seeded) -> list[str]:
    """Check everything ``seed`` left behind against today's stack; the failures, one line each."""
    api = _api(base_url)
    failures: list[str] = []

    def check(ok: bool, what: str, response: requests.Response) -> None:
        if not ok:
            failures.append(f"{what}: {response.status_code} {response.text[:200]}")

    for account in seeded.accounts:
        login = api.post("/auth/login", {"username": account["username"], "password": account["password"]})
        check(login.status_code == 200, f"login of {account['username']}", login)
        if login.status_code == 200:
            me = api.me(login.json()["access_token"])
            check(me.status_code == 200, f"a new access token of {account['username']}", me)
    for refresh_token in seeded.live_refresh_tokens:
        refreshed = api.post("/auth/refresh", {"refresh_token": refresh_token})
        check(refreshed.status_code == 200, "a live refresh token", refreshed)
        if refreshed.status_code == 200:
            me = api.me(refreshed.json()["access_token"])
            check(me.status_code == 200, "the access token a refresh gave", me)
    live = api.me(seeded.live_access_token)
    check(live.status_code == 200, "an access token of an open session, issued before the upgrade", live)
    revoked = api.me(seeded.revoked_access_token)
    check(revoked.status_code == 401, "the access token revoked by logout before the upgrade", revoked)
    ended = api.post("/auth/refresh", {"refresh_token": seeded.revoked_refresh_token})
    check(ended.status_code == 401, "the refresh token of the session ended before the upgrade", ended)
    if seeded.reset_account is not None:
        account, new_password = seeded.reset_account, "new-" + secrets.token_hex(10)
        reset = api.post("/auth/password/reset", {"token": seeded.reset_token, "new_password": new_password})
        check(reset.status_code == 204, "the reset link mailed before the upgrade", reset)
        login = api.post("/auth/login", {"username": account["username"], "password": new_password})
        check(login.status_code == 200, "login with the password set through that link", login)
    return failures
