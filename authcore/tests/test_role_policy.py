"""Unit tests of require_token's role rules: role, any_of, all_of."""

import pytest

from authcore.bearer import role_policy
from authcore.errors import Forbidden
from authcore.tokens import AccessClaims


def claims(*roles: str) -> AccessClaims:
    return AccessClaims("u1", "alice", "s1", "t1", 0.0, 0, tuple(sorted(roles)))


@pytest.mark.parametrize(
    ("policy", "roles", "allowed"),
    [
        ({}, (), True),
        ({"role": "admin"}, ("admin",), True),
        ({"role": "admin"}, ("auditor",), False),
        ({"any_of": ("admin", "auditor")}, ("auditor",), True),
        ({"any_of": ("admin", "auditor")}, ("billing",), False),
        ({"any_of": ("admin", "auditor")}, (), False),
        ({"all_of": ("admin", "billing")}, ("admin", "billing", "x"), True),
        ({"all_of": ("admin", "billing")}, ("admin",), False),
        ({"role": "ops", "any_of": ("a", "b")}, ("ops", "b"), True),
        ({"role": "ops", "any_of": ("a", "b")}, ("a", "b"), False),
    ],
)
def test_role_rules(policy, roles, allowed):
    check = role_policy(**policy).check
    if allowed:
        check(claims(*roles))
    else:
        with pytest.raises(Forbidden):
            check(claims(*roles))


def test_a_single_string_for_a_role_list_is_refused_at_import_time():
    # any_of="admin" would otherwise mean any of the letters a, d, m, i, n.
    with pytest.raises(TypeError):
        role_policy(any_of="admin")
