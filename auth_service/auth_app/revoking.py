"""Ending sessions and cutting off tokens: Postgres and Redis in one step.

Each function runs inside the caller's Postgres transaction and writes
Redis before that transaction commits. If Redis fails, the exception rolls
the transaction back (the client gets a 503 and can retry) so Postgres and
the revocation list never disagree about what was ended. If the commit
itself fails after the Redis write, tokens are revoked a little early,
never late.
"""

import uuid

from psycopg import Connection

from auth_app import audit, store
from authcore.revocation import RevocationList


def end_sessions(
    conn: Connection, revocations: RevocationList, user_id: uuid.UUID, reason: str, keep: uuid.UUID
) -> None:
    """End every session of the user except ``keep``, and revoke their access tokens."""
    ended = store.end_sessions_of_user(conn, user_id, reason, keep=keep)
    audit.sessions_revoked(conn, user_id, ended, reason)
    revocations.revoke_sessions(ended)


def cut_off_user(
    conn: Connection, revocations: RevocationList, user_id: uuid.UUID, end_reason: str | None = None
) -> None:
    """Revoke every access token the user holds now; with ``end_reason``, end all sessions too.

    Without ``end_reason`` (a role was removed) the sessions live on: their
    next refresh issues tokens that carry the user's current roles.
    """
    if end_reason is not None:
        ended = store.end_sessions_of_user(conn, user_id, end_reason)
        audit.sessions_revoked(conn, user_id, ended, end_reason)
    cutoff = revocations.cutoff_now()
    store.set_tokens_valid_after(conn, user_id, cutoff)
    revocations.set_user_cutoff(str(user_id), cutoff)


def end_one_session(
    conn: Connection, revocations: RevocationList, session_id: uuid.UUID, user_id: uuid.UUID, reason: str
) -> bool:
    """End one of the user's sessions; False if it isn't an active one of theirs."""
    if not store.end_session(conn, session_id, user_id, reason):
        return False
    revocations.revoke_sessions([str(session_id)])
    audit.sessions_revoked(conn, user_id, [session_id], reason)
    return True
