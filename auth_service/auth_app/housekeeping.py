"""Keeping the tables small: expired refresh tokens and old sessions are deleted.

A daemon thread in each worker runs ``store.prune`` every few minutes;
running it in two workers at once is harmless (the deletes are idempotent).
"""

import logging
import threading
import time

from psycopg_pool import ConnectionPool

from auth_app import store

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 600
# A week of ended sessions stays for anyone looking into what happened.
KEEP_ENDED_SESSIONS_SECONDS = 7 * 24 * 3600


def prune_once(pool: ConnectionPool) -> tuple[int, int]:
    """Run one pruning pass; (refresh tokens, sessions) deleted."""
    with pool.connection() as conn:
        return store.prune(conn, KEEP_ENDED_SESSIONS_SECONDS)


def start_housekeeping(pool: ConnectionPool) -> None:
    """Start the daemon thread that prunes every ``PRUNE_EVERY_SECONDS``."""

    def loop() -> None:
        while True:
            time.sleep(PRUNE_EVERY_SECONDS)
            try:
                tokens, sessions = prune_once(pool)
                log.info("pruned %d expired refresh tokens, %d old sessions", tokens, sessions)
            except Exception as exc:  # Postgres down: try again next round
                log.warning("pruning failed: %s", type(exc).__name__)

    threading.Thread(target=loop, name="housekeeping", daemon=True).start()
