"""Gateway mode with APP_REQUIRE_MFA=1, through nginx, on a stack of its own.

Not a race: it lives here because this folder knows how to start a
throw-away local stack with settings of its own (``own_stack``). Where the
runner can't start one (the compose suite), it checks BASE_URL's default
instead: APP_REQUIRE_MFA off, a password-only token passes.
"""

import pytest
import requests

from tests.helpers import Api, bearer, gateway_role
from tests.races.conftest import own_stack
from tests.test_mfa_totp import enable_totp, first_step
from tests.totp_codes import oathtool_code

WHOAMI = "/app/whoami"


@pytest.fixture(scope="module")
def mfa_gateway(base_url, admin_credentials):
    with own_stack("gateway-mfa", 4, base_url, admin_credentials, {"APP_REQUIRE_MFA": "1"}) as stack:
        yield stack


def test_the_gateway_lets_only_second_factor_tokens_through(mfa_gateway):
    with requests.Session() as session:
        api = Api(mfa_gateway.base_url, session)
        admin = api.login(mfa_gateway.admin_username, mfa_gateway.admin_password)["access_token"]
        user = api.create_user()
        if gateway_role():
            granted = api.request(
                "PUT", f"/auth/users/{user['username']}/roles/{gateway_role()}", headers=bearer(admin)
            )
            assert granted.status_code == 204, granted.text
        user = {**user, **api.login(user["username"], user["password"])}
        password_only = api.get(WHOAMI, token=user["access_token"])
        if not mfa_gateway.own:
            assert password_only.status_code == 200, password_only.text
            assert password_only.json()["headers"]["x-auth-amr"] == "pwd"
            return
        assert password_only.status_code == 403, password_only.text
        assert password_only.json()["error"] == "mfa_required"
        enabled = enable_totp(api, user)
        step = first_step(api, user)
        code = oathtool_code(enabled["otpauth_uri"], steps_ahead=1)
        tokens = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": code}).json()
        passed = api.get(WHOAMI, token=tokens["access_token"], headers={"X-Auth-Amr": "forged"})
        assert passed.status_code == 200, passed.text
        assert passed.json()["headers"]["x-auth-amr"] == "mfa,otp,pwd"
