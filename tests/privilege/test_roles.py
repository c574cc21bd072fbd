"""Each part may do what its job needs and nothing more, proven against the running stack.

The probes run with the very settings a service runs with (its Postgres
role, its Redis user), so a grant too many in either stack fails here.
"""

REDIS_PROBE = """
import json, sys
import redis
from authcore.redis_client import make_redis
if sys.argv[1] == "api_service":
    from api_app.settings import load_settings
else:
    from auth_app.settings import load_settings
settings = load_settings()
client = make_redis(settings.redis_url, settings.redis_password)
attempts = {
    "read_revocations": lambda: client.mget("revoked:ready", "revoked:sid:probe"),
    "write_revocation": lambda: client.set("revoked:sid:probe-" + sys.argv[1], "1", ex=5),
    "delete_revocation": lambda: client.delete("revoked:sid:probe-gone"),
    "write_elsewhere": lambda: client.set("probe:" + sys.argv[1], "1", ex=5),
    "read_token_entries": lambda: client.mget("revoked:ready", "pat:probe"),
    "write_token_entry": lambda: client.set("pat:probe-" + sys.argv[1], "{}", ex=5),
    "delete_token_entry": lambda: client.delete("pat:probe-gone"),
    "note_token_use": lambda: client.xadd("pat-usage", {"probe": "1"}, maxlen=10000, approximate=True),
    "read_token_use": lambda: client.xrange("pat-usage", count=1),
    "trim_token_use": lambda: client.xtrim("pat-usage", maxlen=10000, approximate=True),
    "append_elsewhere": lambda: client.xadd("probe-stream", {"probe": "1"}, maxlen=1),
    "flushall": lambda: client.flushall(),
    "config": lambda: client.config_get("dir"),
    "acl": lambda: client.acl_list(),
    "keys": lambda: client.keys("*"),
}
outcome = {}
for name, attempt in attempts.items():
    try:
        attempt()
        outcome[name] = "allowed"
    except redis.exceptions.NoPermissionError:
        outcome[name] = "refused"
print(json.dumps(outcome))
"""

POSTGRES_PROBE = """
import json
import psycopg
from auth_app.settings import load_settings
statements = {
    "select": "SELECT count(*) FROM users",
    "update_rows": "UPDATE users SET email = email WHERE false",
    "create_table": "CREATE TABLE probe (id int)",
    "create_temp_table": "CREATE TEMP TABLE probe (id int)",
    "drop_table": "DROP TABLE refresh_tokens",
    "alter_table": "ALTER TABLE users ADD COLUMN probe int",
    "truncate": "TRUNCATE refresh_tokens",
    "create_schema": "CREATE SCHEMA probe",
    "create_role": "CREATE ROLE probe",
    "create_index": "CREATE INDEX probe ON users (email)",
    "take_ownership": "ALTER TABLE users OWNER TO CURRENT_USER",
    "read_server_files": "SELECT pg_read_file('postgresql.conf')",
}
outcome = {}
with psycopg.connect(load_settings().database_url) as conn:
    for name, sql in statements.items():
        try:
            with conn.transaction():
                conn.execute(sql)
            outcome[name] = "allowed"
        except psycopg.errors.InsufficientPrivilege:
            outcome[name] = "refused"
        except psycopg.Error as exc:
            outcome[name] = type(exc).__name__
    outcome["superuser"] = conn.execute(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    outcome["superusers_that_log_in_as_the_stack"] = conn.execute(
        "SELECT count(*) FROM pg_roles WHERE rolsuper AND rolname IN (current_user, 'authstack_migrate')"
    ).fetchone()[0]
print(json.dumps(outcome))
"""


def test_api_service_may_only_read_the_revocation_list_and_note_token_use(privileges):
    outcome = privileges.probe("service", "api_service", REDIS_PROBE, "api_service")
    assert outcome == {
        "read_revocations": "allowed",
        "write_revocation": "refused",
        "delete_revocation": "refused",
        "write_elsewhere": "refused",
        "read_token_entries": "allowed",
        "write_token_entry": "refused",
        "delete_token_entry": "refused",
        "note_token_use": "allowed",
        "read_token_use": "refused",
        "trim_token_use": "refused",
        "append_elsewhere": "refused",
        "flushall": "refused",
        "config": "refused",
        "acl": "refused",
        "keys": "refused",
    }


def test_auth_service_may_write_revocations_and_token_entries_and_nothing_else(privileges):
    outcome = privileges.probe("service", "auth_service", REDIS_PROBE, "auth_service")
    assert outcome == {
        "read_revocations": "allowed",
        "write_revocation": "allowed",
        "delete_revocation": "allowed",
        "write_elsewhere": "refused",
        "read_token_entries": "allowed",
        "write_token_entry": "allowed",
        "delete_token_entry": "allowed",
        # It reads and deletes the notes (XRANGE, XDEL in its script); only api_service adds them.
        "note_token_use": "refused",
        "read_token_use": "allowed",
        "trim_token_use": "refused",
        "append_elsewhere": "refused",
        "flushall": "refused",
        "config": "refused",
        "acl": "refused",
        "keys": "refused",
    }


def test_the_services_postgres_role_reads_and_writes_rows_only(privileges):
    outcome = privileges.probe("service", "auth_service", POSTGRES_PROBE)
    assert outcome == {
        "select": "allowed",
        "update_rows": "allowed",
        "create_table": "refused",
        "create_temp_table": "refused",
        "drop_table": "refused",
        "alter_table": "refused",
        "truncate": "refused",
        "create_schema": "refused",
        "create_role": "refused",
        "create_index": "refused",
        "take_ownership": "refused",
        "read_server_files": "refused",
        "superuser": False,
        "superusers_that_log_in_as_the_stack": 0,
    }
