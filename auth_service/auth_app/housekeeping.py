"""Keeping the tables small: dead refresh tokens, second steps and long-expired personal access tokens,
old sessions and audit events, long-unused devices, single sign-on's old codes and dead cookies.

A daemon thread in each worker runs ``store.prune`` every few minutes;
running it in two workers at once is harmless (the deletes are idempotent).
"""

import logging
import threading
import time

from psycopg_pool import ConnectionPool

from auth_app import access_token_store, store
from auth_app.audit import store as audit_store
from auth_app.factors import passkey_store
from auth_app.factors import store as factor_store
from auth_app.mail import store as mail_store
from auth_app.oidc import grant_store as oidc_store
from auth_app.sessions import DEFAULT_MAX_LIFETIME
from authcore.pats import EXPIRED_GRACE_SECONDS

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 600
# A week of ended sessions stays for anyone looking into what happened.
KEEP_ENDED_SESSIONS_SECONDS = 7 * 24 * 3600
# A device (user agent) unused this long is forgotten: a sign-in from it
# again is "new" (NOTIFY_NEW_DEVICE); browsers change their user agent
# with most updates anyway.
FORGET_DEVICES_AFTER_DAYS = 180


def prune_once(
    pool: ConnectionPool, audit_retention_days: int = 365, session_max_lifetime: int = DEFAULT_MAX_LIFETIME
) -> tuple[int, int, int, int, int, int]:
    """One pruning pass; counts of refresh tokens, sessions, events, second steps, access tokens, devices.

    A personal access token is kept a week past its expiry: its late use is
    then told apart from an unknown token's (``pat_expired_use``).

    Audit events are kept ``audit_retention_days`` (AUDIT_RETENTION_DAYS);
    rotated refresh tokens as long as their session may still be refreshed
    (``session_max_lifetime``, SESSION_MAX_LIFETIME); a pending second login
    step goes once it is used or expired.
    """
    with pool.connection() as conn:
        tokens, sessions = store.prune(conn, KEEP_ENDED_SESSIONS_SECONDS, session_max_lifetime)
        events = audit_store.prune_events(conn, audit_retention_days)
        steps = factor_store.prune_login_steps(conn) + passkey_store.prune_challenges(conn)
        access_tokens = access_token_store.prune(conn, EXPIRED_GRACE_SECONDS)
        devices = mail_store.forget_unused_devices(conn, FORGET_DEVICES_AFTER_DAYS)
        # Single sign-on's old codes and dead provider cookies (a small count, not reported).
        oidc_store.prune(conn)
        return tokens, sessions, events, steps, access_tokens, devices


def start_housekeeping(
    pool: ConnectionPool, audit_retention_days: int = 365, session_max_lifetime: int = DEFAULT_MAX_LIFETIME
) -> None:
    """Start the daemon thread that prunes every ``PRUNE_EVERY_SECONDS``."""

    def loop() -> None:
        while True:
            time.sleep(PRUNE_EVERY_SECONDS)
            try:
                pruned = prune_once(pool, audit_retention_days, session_max_lifetime)
                log.info(
                    "pruned %d dead refresh tokens, %d old sessions, %d old audit events,"
                    " %d finished second steps, %d long-expired access tokens, %d unused devices",
                    *pruned,
                )
            except Exception as exc:  # Postgres down: try again next round
                log.warning("pruning failed: %s", type(exc).__name__)

    threading.Thread(target=loop, name="housekeeping", daemon=True).start()
