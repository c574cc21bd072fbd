"""Each Redis user may send exactly the commands its code sends: proven against the running stack.

The probe runs auth_service's own Redis code (the revocation list, the login
throttle, the mail limits) as auth_service runs, then tries what no part of
it sends. api_service's read-only user is tried the same way.
"""

FORBIDDEN_PROBE = """
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
    "function_load": ("FUNCTION", "LOAD", "#!lua name=probe\\nredis.register_function('p', function() end)"),
    "function_flush": ("FUNCTION", "FLUSH"),
    "function_list": ("FUNCTION", "LIST"),
    "script_flush": ("SCRIPT", "FLUSH"),
    "script_kill": ("SCRIPT", "KILL"),
    "eval_unregistered": ("EVAL", "return 1", "0"),
    "scan": ("SCAN", "0"),
    "keys": ("KEYS", "revoked:*"),
    "flushdb": ("FLUSHDB",),
    "flushall": ("FLUSHALL",),
    "config": ("CONFIG", "GET", "dir"),
    "acl": ("ACL", "LIST"),
    "monitor_like_client_list": ("CLIENT", "LIST"),
    "shutdown": ("SHUTDOWN", "NOSAVE"),
}
outcome = {}
for name, command in attempts.items():
    try:
        client.execute_command(*command)
        outcome[name] = "allowed"
    except redis.exceptions.NoPermissionError:
        outcome[name] = "refused"
    except redis.RedisError as exc:
        outcome[name] = type(exc).__name__
print(json.dumps(outcome))
"""

AUTH_SERVICE_CODE_PROBE = """
import json, uuid
from auth_app.mail.limits import MailRequestLimits
from auth_app.settings import load_settings
from auth_app.throttle import LoginThrottle
from authcore.redis_client import make_redis
from authcore.revocation import RevocationList
settings = load_settings()
client = make_redis(settings.redis_url, settings.redis_password)
revocations = RevocationList(client, 300, 5)
throttle = LoginThrottle(client, 1)
probe = "probe-" + uuid.uuid4().hex
client.ping()
revocations.server_run_id()
revocations.is_ready()
revocations.revoke_sessions([probe])
revocations.set_user_cutoff(probe, 1.0)
throttle.record_failure(probe)
throttle.retry_after(probe)
throttle.record_success(probe)
MailRequestLimits(client).count("probe", probe)
print(json.dumps({"ran": True}))
"""

FORBIDDEN = (
    "function_load", "function_flush", "function_list", "script_flush", "script_kill", "eval_unregistered",
    "scan", "keys", "flushdb", "flushall", "config", "acl", "monitor_like_client_list", "shutdown",
)  # fmt: skip


def test_auth_service_runs_its_own_redis_code(privileges):
    assert privileges.probe("service", "auth_service", AUTH_SERVICE_CODE_PROBE) == {"ran": True}


def test_auth_service_may_send_nothing_else(privileges):
    outcome = privileges.probe("service", "auth_service", FORBIDDEN_PROBE, "auth_service")
    assert outcome == dict.fromkeys(FORBIDDEN, "refused")


def test_api_service_may_send_nothing_else(privileges):
    outcome = privileges.probe("service", "api_service", FORBIDDEN_PROBE, "api_service")
    assert outcome == dict.fromkeys(FORBIDDEN, "refused")


def test_not_even_debug_whatever_the_server_allows(privileges):
    # Redis refuses DEBUG to everyone unless enable-debug-command is set, so
    # a live try proves nothing about the ACL: ask Redis's ACL itself.
    for user in ("auth_service", "api_service"):
        answer = privileges.run("redis-cli", "ACL", "DRYRUN", user, "DEBUG", "SLEEP", "0").stdout
        assert "no permissions" in answer, (user, answer)
        allowed = privileges.run("redis-cli", "ACL", "DRYRUN", user, "GET", "revoked:ready").stdout
        assert allowed.strip() == "OK", (user, allowed)
