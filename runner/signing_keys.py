"""The local stack's token keys under an asymmetric ``JWT_ALG`` (EdDSA or ES256).

auth_service signs with the private JWK Set ``JWT_PRIVATE_KEYS_FILE``; when
that setting is empty, a set with one new key is generated into the state
folder on the first start and kept afterwards. api_service gets only the
public JWK Set derived from it (``JWT_PUBLIC_KEYS_FILE``, rewritten on every
start, so a rotated private set is published to it by a restart).
"""

import os
from pathlib import Path

from authcore import keys as key_sets
from authcore.settings import SettingsError, read_algorithm, read_key_set
from runner import datastores
from runner.settings import StackSettings

PRIVATE_FILE_NAME = "jwt-private.jwks.json"
PUBLIC_FILE_NAME = "jwt-public.jwks.json"
# What a service holding public keys only must never be given (blanked: an empty setting is unset).
SIGNING_SETTINGS = (
    "JWT_SECRET",
    "JWT_SECRET_FILE",
    "JWT_KEYS",
    "JWT_KEYS_FILE",
    key_sets.PRIVATE_KEYS_SETTING,
)


def algorithm(stack: StackSettings) -> str:
    """The stack's ``JWT_ALG``; ``StackError`` if it names none of the three."""
    try:
        return read_algorithm(stack.env)
    except SettingsError as exc:
        raise datastores.StackError(str(exc)) from None


def private_file(stack: StackSettings) -> Path:
    """The private JWK Set auth_service reads: the one named, or the state folder's own."""
    named = stack.env.get(key_sets.PRIVATE_KEYS_SETTING, "").strip()
    return Path(named) if named else stack.path("keys", PRIVATE_FILE_NAME)


def public_file(stack: StackSettings) -> Path:
    """The public JWK Set the runner derives for api_service."""
    return stack.path("public-keys", PUBLIC_FILE_NAME)


def prepare(stack: StackSettings) -> None:
    """Generate the private set if the stack's own is missing, check it, publish its public half.

    The private file and its folder belong to the services' user, mode 0600/0700;
    the public set is world-readable. ``StackError`` names the setting of a bad file.
    """
    alg = algorithm(stack)
    if alg == key_sets.HS256:
        return
    private = private_file(stack)
    owner = datastores.app_user()
    if not stack.env.get(key_sets.PRIVATE_KEYS_SETTING, "").strip() and not private.exists():
        datastores.owned_dir(private.parent, owner, mode=0o700)
        key_sets.write_json_file(private, key_sets.private_key_set((key_sets.generate_key(alg),)), 0o600)
        if owner is not None:
            os.chown(private, owner.pw_uid, owner.pw_gid)
        print(f"generated a {alg} signing key into {private}")
    try:
        keys = read_key_set({key_sets.PRIVATE_KEYS_SETTING: str(private)}, alg, signer=True)
    except SettingsError as exc:
        raise datastores.StackError(str(exc)) from None
    public = public_file(stack)
    public.parent.mkdir(parents=True, exist_ok=True)
    public.parent.chmod(0o755)
    key_sets.write_json_file(public, key_sets.public_key_set(keys), 0o644)


def service_environment(stack: StackSettings, service: str) -> dict[str, str]:
    """The key settings ``service`` starts with: api_service gets the public set, no signing setting."""
    if algorithm(stack) == key_sets.HS256:
        return {key_sets.PUBLIC_KEYS_SETTING: "", key_sets.PRIVATE_KEYS_SETTING: ""}
    if service == "auth_service":
        return {key_sets.PRIVATE_KEYS_SETTING: str(private_file(stack)), key_sets.PUBLIC_KEYS_SETTING: ""}
    blanked = dict.fromkeys(SIGNING_SETTINGS, "")
    return {**blanked, key_sets.PUBLIC_KEYS_SETTING: str(public_file(stack))}
