"""Single sign-on tests: the provider's discovery document and a way to register clients.

The suite's stack runs the provider when it has ID-token keys (the local
runner generates them); where it has none (a deployment without
``OIDC_SIGNING_KEYS_FILE``) these tests are skipped.
"""

import secrets

import pytest
import requests

from tests.helpers import TIMEOUT
from tests.oidc.flow import require_browser
from tests.stack_env import stack_setting

DISCOVERY_PATH = "/.well-known/openid-configuration"


@pytest.fixture(scope="session")
def discovery(base_url) -> dict:
    """The provider's metadata; skip when the stack runs no provider."""
    response = requests.get(base_url + DISCOVERY_PATH, timeout=TIMEOUT)
    if response.status_code == 404:
        pytest.skip("this stack runs no OpenID Connect provider (no OIDC_SIGNING_KEYS_FILE)")
    assert response.status_code == 200, response.text
    document: dict = response.json()
    return document


@pytest.fixture(scope="session")
def public_url() -> str:
    """The stack's PUBLIC_URL: the issuer."""
    return stack_setting("PUBLIC_URL").rstrip("/")


@pytest.fixture
def register_client(api, admin_token, discovery):
    """Register a client through the admin route; returns its body (with the secret, if any)."""

    def register(**fields) -> dict:
        body = {
            "name": f"app-{secrets.token_hex(3)}",
            "type": "confidential",
            "redirect_uris": ["http://127.0.0.1:9/callback"],
            **fields,
        }
        response = api.post("/auth/oauth2/clients", json=body, token=admin_token)
        assert response.status_code == 201, response.text
        client: dict = response.json()
        return client

    return register


@pytest.fixture(scope="session")
def chromium(request):
    """The run's one headless Chromium (tests/conftest.py); skipped where there is none."""
    require_browser()
    return request.getfixturevalue("chromium_browser")
