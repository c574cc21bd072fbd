"""Tampering with the audit trail: refused as the service, found by /auth/audit/verify as the superuser."""

import json

from tests.helpers import assert_error

SERVICE_TAMPER_PROBE = """
import json
import psycopg
from auth_app.settings import load_settings
statements = {
    "update_event": "UPDATE audit_events SET client_ip = 'forged' WHERE id = 1",
    "delete_event": "DELETE FROM audit_events WHERE id = 1",
    "truncate_events": "TRUNCATE audit_events",
    "read_migrations": "SELECT count(*) FROM schema_migrations",
    "delete_migration": "DELETE FROM schema_migrations",
    "insert_event": "INSERT INTO audit_events (action, result) VALUES ('probe_event', 'success')",
}
outcome = {}
with psycopg.connect(load_settings().database_url) as conn:
    for name, sql in statements.items():
        try:
            with conn.transaction():
                conn.execute(sql)
                raise RuntimeError("rolled back")  # an allowed statement changes nothing here
        except psycopg.errors.InsufficientPrivilege:
            outcome[name] = "refused"
        except RuntimeError:
            outcome[name] = "allowed"
print(json.dumps(outcome))
"""


def test_the_service_may_only_append_to_the_trail(privileges):
    outcome = privileges.probe("service", "auth_service", SERVICE_TAMPER_PROBE)
    assert outcome == {
        "update_event": "refused",
        "delete_event": "refused",
        "truncate_events": "refused",
        "read_migrations": "refused",
        "delete_migration": "refused",
        "insert_event": "allowed",
    }


def _verify(api, token) -> dict:
    response = api.get("/auth/audit/verify", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_row_the_superuser_changes_is_reported(api, admin_token, privileges, new_user):
    assert _verify(api, admin_token)["intact"] is True
    events = api.get("/auth/audit", token=admin_token, params={"user": new_user["id"]}).json()["events"]
    event_id = events[-1]["id"]  # the signup's user_created
    # The superuser's SQL comes from this test alone: an integer id, fixed literals.
    tamper = f"UPDATE audit_events SET client_ip = '203.0.113.66' WHERE id = {int(event_id)}"  # noqa: S608
    restore = f"UPDATE audit_events SET client_ip = '{events[-1]['client_ip']}' WHERE id = {int(event_id)}"  # noqa: S608
    assert "'" not in events[-1]["client_ip"]
    privileges.run("superuser-psql", tamper)
    try:
        verdict = _verify(api, admin_token)
        assert verdict["intact"] is False
        assert verdict["first_broken"]["id"] == event_id
        assert verdict["first_broken"]["problem"] == "row_changed"
        # make audit-verify's command, as the service runs: the same verdict, exit 1.
        command = privileges.run(
            "service-exec", "auth_service", "python", "-m", "auth_app.audit.verify", check=False
        )
        assert command.returncode == 1, command.stderr
        assert json.loads(command.stdout)["first_broken"] == verdict["first_broken"]
    finally:
        privileges.run("superuser-psql", restore)
    assert (
        privileges.run("service-exec", "auth_service", "python", "-m", "auth_app.audit.verify").returncode
        == 0
    )
    assert _verify(api, admin_token)["intact"] is True


def test_verifying_is_for_admins_only(api, logged_in):
    assert_error(api.get("/auth/audit/verify", token=logged_in["access_token"]), 403, "forbidden")
