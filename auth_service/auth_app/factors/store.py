"""The SQL of second factors: TOTP secrets, recovery codes and pending login steps.

Raw, parameterised statements only. Functions take a connection so that
callers choose the transaction; the ones that change a factor are called
with the user's row locked (``auth_app.revoking.lock_user`` or a login's
``FOR SHARE``), so they are ordered against every issuing and revoking path.
"""

import uuid
from dataclasses import dataclass

from psycopg import Connection

from auth_app.rows import first_int

# --- TOTP -----------------------------------------------------------------


@dataclass(frozen=True)
class TotpRow:
    """A user's TOTP secret (still encrypted) and its state."""

    secret_encrypted: bytes
    confirmed: bool
    last_used_step: int


_SELECT_TOTP = (
    "SELECT secret_encrypted, confirmed_at IS NOT NULL, last_used_step FROM mfa_totp WHERE user_id = %s"
)
_SELECT_TOTP_FOR_UPDATE = _SELECT_TOTP + " FOR UPDATE"


def find_totp(conn: Connection, user_id: uuid.UUID, lock: bool = False) -> TotpRow | None:
    """The user's TOTP row, pending or confirmed; ``lock`` takes it FOR UPDATE."""
    query = _SELECT_TOTP_FOR_UPDATE if lock else _SELECT_TOTP
    row = conn.execute(query, (user_id,)).fetchone()
    return TotpRow(bytes(row[0]), row[1], row[2]) if row else None


def has_enabled_factor(conn: Connection, user_id: uuid.UUID) -> bool:
    """True if the user has a second factor on: a confirmed TOTP secret or a passkey."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = %s AND confirmed_at IS NOT NULL)"
        " OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = %s)",
        (user_id, user_id),
    ).fetchone()
    return bool(row and row[0])


def put_pending_totp(conn: Connection, user_id: uuid.UUID, secret_encrypted: bytes) -> bool:
    """Store a new pending secret, replacing a pending one; False if TOTP is already on."""
    row = conn.execute(
        "INSERT INTO mfa_totp (user_id, secret_encrypted) VALUES (%s, %s)"
        " ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = EXCLUDED.secret_encrypted,"
        " created_at = now(), last_used_step = 0 WHERE mfa_totp.confirmed_at IS NULL"
        " RETURNING 1",
        (user_id, secret_encrypted),
    ).fetchone()
    return row is not None


def confirm_totp(conn: Connection, user_id: uuid.UUID, step: int) -> bool:
    """Turn a pending secret on, its first code's step used; False if there is no pending one."""
    cur = conn.execute(
        "UPDATE mfa_totp SET confirmed_at = now(), last_used_step = %s"
        " WHERE user_id = %s AND confirmed_at IS NULL",
        (step, user_id),
    )
    return cur.rowcount == 1


def use_totp_step(conn: Connection, user_id: uuid.UUID, step: int) -> bool:
    """Take the code of ``step``: True once, and never for a step at or before the last one used.

    The condition and the update are one statement, so of two concurrent
    uses of one code exactly one gets it.
    """
    cur = conn.execute(
        "UPDATE mfa_totp SET last_used_step = %s"
        " WHERE user_id = %s AND confirmed_at IS NOT NULL AND last_used_step < %s",
        (step, user_id, step),
    )
    return cur.rowcount == 1


def replace_totp_secret(conn: Connection, user_id: uuid.UUID, secret_encrypted: bytes) -> None:
    """Store the same secret encrypted under the current MFA key (after a key rotation)."""
    conn.execute("UPDATE mfa_totp SET secret_encrypted = %s WHERE user_id = %s", (secret_encrypted, user_id))


def delete_totp(conn: Connection, user_id: uuid.UUID) -> bool:
    """Remove the user's TOTP secret; True if it was on (confirmed)."""
    row = conn.execute(
        "DELETE FROM mfa_totp WHERE user_id = %s RETURNING confirmed_at IS NOT NULL", (user_id,)
    ).fetchone()
    return bool(row and row[0])


# --- recovery codes --------------------------------------------------------


def replace_recovery_codes(conn: Connection, user_id: uuid.UUID, code_hashes: list[bytes]) -> None:
    """Void every recovery code of the user and store these new ones."""
    conn.execute("DELETE FROM mfa_recovery_codes WHERE user_id = %s", (user_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (%s, %s)",
            [(user_id, code_hash) for code_hash in code_hashes],
        )


def use_recovery_code(conn: Connection, user_id: uuid.UUID, code_hash: bytes) -> bool:
    """Mark an unused recovery code of the user used: True exactly once, however many race."""
    row = conn.execute(
        "UPDATE mfa_recovery_codes SET used_at = now()"
        " WHERE user_id = %s AND code_hash = %s AND used_at IS NULL RETURNING 1",
        (user_id, code_hash),
    ).fetchone()
    return row is not None


def recovery_codes_left(conn: Connection, user_id: uuid.UUID) -> int:
    """How many unused recovery codes the user has."""
    return first_int(
        conn.execute(
            "SELECT count(*) FROM mfa_recovery_codes WHERE user_id = %s AND used_at IS NULL", (user_id,)
        ).fetchone()
    )


def delete_recovery_codes(conn: Connection, user_id: uuid.UUID) -> None:
    """Void every recovery code of the user."""
    conn.execute("DELETE FROM mfa_recovery_codes WHERE user_id = %s", (user_id,))


# --- pending second login steps --------------------------------------------


@dataclass(frozen=True)
class LoginStep:
    """A live ``mfa_token``: whose it is, the password it followed, the throttle counter."""

    user_id: uuid.UUID
    password_fingerprint: bytes
    throttle_key: str


def insert_login_step(
    conn: Connection,
    token_hash: bytes,
    user_id: uuid.UUID,
    password_fingerprint: bytes,
    throttle_key: str,
    ttl_seconds: int,
) -> None:
    """Store a new pending second step for ``ttl_seconds``."""
    conn.execute(
        "INSERT INTO mfa_login_tokens (token_hash, user_id, password_fingerprint, throttle_key, expires_at)"
        " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))",
        (token_hash, user_id, password_fingerprint, throttle_key, ttl_seconds),
    )


def find_login_step(conn: Connection, token_hash: bytes, max_failures: int) -> LoginStep | None:
    """The live pending step of this token hash (unused, unexpired, not killed by failures)."""
    row = conn.execute(
        "SELECT user_id, password_fingerprint, throttle_key FROM mfa_login_tokens"
        " WHERE token_hash = %s AND used_at IS NULL AND expires_at > now() AND failures < %s",
        (token_hash, max_failures),
    ).fetchone()
    return LoginStep(row[0], bytes(row[1]), row[2]) if row else None


def use_login_step(conn: Connection, token_hash: bytes, user_id: uuid.UUID, max_failures: int) -> bool:
    """Consume a live step of ``user_id``: True exactly once (one conditional UPDATE)."""
    row = conn.execute(
        "UPDATE mfa_login_tokens SET used_at = now() WHERE token_hash = %s AND user_id = %s"
        " AND used_at IS NULL AND expires_at > now() AND failures < %s RETURNING 1",
        (token_hash, user_id, max_failures),
    ).fetchone()
    return row is not None


def count_login_step_failure(conn: Connection, token_hash: bytes) -> None:
    """Count one wrong code against the step (at the limit it is no longer live)."""
    conn.execute("UPDATE mfa_login_tokens SET failures = failures + 1 WHERE token_hash = %s", (token_hash,))


def kill_login_steps(conn: Connection, user_id: uuid.UUID) -> None:
    """End every pending second step of the user (a factor was removed)."""
    conn.execute("DELETE FROM mfa_login_tokens WHERE user_id = %s", (user_id,))


def prune_login_steps(conn: Connection) -> int:
    """Delete expired or used pending steps; how many (housekeeping)."""
    return conn.execute(
        "DELETE FROM mfa_login_tokens WHERE expires_at < now() OR used_at IS NOT NULL"
    ).rowcount
