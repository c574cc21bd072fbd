"""The local stack's ID-token keys of single sign-on (``OIDC_SIGNING_KEYS_FILE``).

When the setting is empty, a private JWK Set with an RS256, an EdDSA and an
ES256 key is generated into the state folder on the first start and kept
afterwards, like the access-token keys (runner/signing_keys.py). Only
auth_service is given it.
"""

import os
from pathlib import Path

from auth_app.oidc import signing_keys as oidc_keys
from authcore import keys as key_sets
from authcore.settings import SettingsError
from runner import datastores
from runner.settings import ROOT, StackSettings

FILE_NAME = "oidc-signing.jwks.json"
# The compose stack's set (docker-compose.oidc.yml mounts it), written by `make env`.
COMPOSE_FILE = ROOT / "keys" / FILE_NAME


def private_file(stack: StackSettings) -> Path:
    """The ID-token key set auth_service reads: the one named, or the state folder's own."""
    named = stack.env.get(oidc_keys.SETTING, "").strip()
    return Path(named) if named else stack.path("keys", FILE_NAME)


def prepare(stack: StackSettings) -> None:
    """Generate the state folder's set if it is missing (mode 0600, the services' user), then check it."""
    private = private_file(stack)
    owner = datastores.app_user()
    if not stack.env.get(oidc_keys.SETTING, "").strip() and not private.exists():
        datastores.owned_dir(private.parent, owner, mode=0o700)
        key_sets.write_json_file(private, oidc_keys.generate_key_set(), 0o600)
        if owner is not None:
            os.chown(private, owner.pw_uid, owner.pw_gid)
        print(f"generated the ID-token keys (RS256, EdDSA, ES256) into {private}")
    try:
        oidc_keys.load_signing_keys(str(private))
    except SettingsError as exc:
        raise datastores.StackError(str(exc)) from None


def service_environment(stack: StackSettings, service: str) -> dict[str, str]:
    """``OIDC_SIGNING_KEYS_FILE`` for auth_service; blank for every other part."""
    return {oidc_keys.SETTING: str(private_file(stack)) if service == "auth_service" else ""}


def write_compose_keys(path: Path = COMPOSE_FILE) -> bool:
    """Generate the compose stack's ID-token keys into ``keys/`` if missing (mode 0600); True if written.

    The container's user (10001) must be able to read it: docker-compose.oidc.yml says how.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    key_sets.write_json_file(path, oidc_keys.generate_key_set(), 0o600)
    print(f"generated the ID-token keys (RS256, EdDSA, ES256) into {path} for docker-compose.oidc.yml")
    return True
