"""Ending sessions and cutting off tokens: the one module that does it, Postgres and Redis in one step.

Every revoking path (logout, logout-all, ending one session, a password
change, disabling, removing a role, refresh-token reuse) comes through here,
and so do the changes that end or rewrite a user's personal access tokens
(``end_access_tokens``, ``rewrite_access_tokens``).
Each function runs inside the caller's Postgres transaction and first locks
the user's row FOR UPDATE: issuers (login, refresh) lock it FOR SHARE while
they read the user and take the token's issue time, so every token is
issued either wholly before the event (and cut off by it) or wholly after
it (and reflects it). See docs/ARCHITECTURE.md, "Revocation under concurrency".

Redis is written before the transaction commits. If Redis fails, the
exception rolls the transaction back (the client gets a 503 and can retry)
so Postgres and the revocation list never disagree about what was ended.
If the commit itself fails after the Redis write, tokens are revoked a
little early, never late.
"""

import uuid

from psycopg import Connection

from auth_app import access_tokens, audit, store
from authcore.revocation import RevocationList


def lock_user(conn: Connection, user_id: uuid.UUID) -> store.User | None:
    """Lock the user's row for a revoking change (a no-op if this transaction holds it already)."""
    return store.lock_user_for_revoking(conn, user_id)


def end_all_sessions(
    conn: Connection,
    revocations: RevocationList,
    user_id: uuid.UUID,
    reason: str,
    keep: uuid.UUID | None = None,
) -> None:
    """End every session of the user (but ``keep``) and revoke each one's tokens by id."""
    lock_user(conn, user_id)
    ended = store.end_sessions_of_user(conn, user_id, reason, keep=keep)
    audit.sessions_revoked(conn, user_id, ended, reason)
    revocations.revoke_sessions(ended)


def cut_off_user(conn: Connection, revocations: RevocationList, user_id: uuid.UUID) -> None:
    """Revoke every access token the user was issued up to now; their sessions live on.

    The cutoff is taken under the row lock from Postgres's clock: any token
    issued before is strictly before it, any token issued after is not.
    """
    lock_user(conn, user_id)
    cutoff_ms = store.raise_tokens_valid_after(conn, user_id)
    revocations.set_user_cutoff(str(user_id), cutoff_ms / 1000)


def end_session(
    conn: Connection, revocations: RevocationList, session_id: uuid.UUID, user_id: uuid.UUID, reason: str
) -> bool:
    """End one of the user's sessions; False if it isn't an active one of theirs."""
    lock_user(conn, user_id)
    if not store.end_session(conn, session_id, user_id, reason):
        return False
    audit.sessions_revoked(conn, user_id, [session_id], reason)
    revocations.revoke_sessions([str(session_id)])
    return True


def log_out(conn: Connection, revocations: RevocationList, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """End the caller's session; revoke its tokens even if it had already ended (harmless twice)."""
    lock_user(conn, user_id)
    if store.end_session(conn, session_id, user_id, "logout"):
        audit.sessions_revoked(conn, user_id, [session_id], "logout")
    revocations.revoke_sessions([str(session_id)])


def end_reused_session(conn: Connection, revocations: RevocationList, token_hash: bytes) -> bool:
    """A used refresh token was presented again: end its session. False if it isn't a used one."""
    found = store.find_used_refresh_token(conn, token_hash)
    if found is None:
        return False
    session_id, user_id = found
    lock_user(conn, user_id)
    store.end_session_by_id(conn, session_id, "refresh_token_reuse")
    audit.token_reused(conn, session_id)
    revocations.revoke_sessions([str(session_id)])
    return True


def end_access_tokens(conn: Connection, revocations: RevocationList, user_id: uuid.UUID, reason: str) -> None:
    """Revoke every personal access token of the user (disabling, a reset by mail, a factor reset).

    A password change and logout-all leave them alone: they are credentials
    of their own, listed and revoked one by one.
    """
    lock_user(conn, user_id)
    access_tokens.end_all(conn, revocations, user_id, reason)


def rewrite_access_tokens(conn: Connection, revocations: RevocationList, user_id: uuid.UUID) -> None:
    """Rewrite the user's personal-access-token entries after a role change (roles given and held)."""
    lock_user(conn, user_id)
    access_tokens.rewrite_all(conn, revocations, user_id)
