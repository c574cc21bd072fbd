"""Integration-test fixtures: the suite only knows ``BASE_URL`` (nginx).

It runs unchanged against the local stack (`make test`) and the compose
stack. Layered like flaskr's: ``base_url`` -> ``http`` -> ``new_user`` /
``logged_in``; each test makes its own users, so order never matters.
"""

import os

import pytest
import requests

from tests.helpers import Api


@pytest.fixture(scope="session")
def base_url() -> str:
    """The stack's one public address; the tests fail loudly without it."""
    url = os.environ.get("BASE_URL")
    if not url:
        pytest.fail("BASE_URL is not set: run the suite with `make test`")
    return url.rstrip("/")


@pytest.fixture
def api(base_url):
    """An HTTP client for the stack, with helpers for the common flows."""
    with requests.Session() as session:
        yield Api(base_url, session)


@pytest.fixture
def new_user(api):
    """A freshly signed-up user (dict with username, email, password, id)."""
    return api.create_user()


@pytest.fixture
def logged_in(api, new_user):
    """``new_user`` plus the token response of a login."""
    return {**new_user, **api.login(new_user["username"], new_user["password"])}


@pytest.fixture(scope="session")
def admin_credentials() -> dict:
    """The admin that `make test` creates with the admin command before the suite."""
    username, password = os.environ.get("ADMIN_USERNAME"), os.environ.get("ADMIN_PASSWORD")
    if not username or not password:
        pytest.fail("ADMIN_USERNAME/ADMIN_PASSWORD are not set: run the suite with `make test`")
    return {"username": username, "password": password}


@pytest.fixture
def admin_token(api, admin_credentials) -> str:
    """A fresh access token of the admin."""
    return api.login(admin_credentials["username"], admin_credentials["password"])["access_token"]
