"""Rebuilding the Redis revocation list from Postgres, the source of truth.

Run at start and whenever Redis restarts or has lost the list (a watcher
thread in each worker checks once a second), and by hand with
``python -m auth_app.revocation_rebuild``. Until the list is rebuilt the
API fails closed (see authcore.revocation's ready marker), so a Redis that
lost its data never lets a revoked token back in. A restart that kept the
append-only file still triggers a rebuild, which restores the last second
of revocations that ``appendfsync everysec`` may have lost.
"""

import logging
import math
import sys
import threading
import time

import redis
from psycopg_pool import ConnectionPool

from auth_app import access_token_store, access_tokens, store
from auth_app.db import open_pool
from auth_app.settings import load_settings
from authcore import metrics, pats
from authcore.redis_client import make_redis
from authcore.revocation import RevocationList, entry_ttl
from authcore.settings import SettingsError, TokenSettings

log = logging.getLogger(__name__)
WATCH_INTERVAL_SECONDS = 1.0
REBUILT = "revocation list rebuilt: %d sessions, %d user cutoffs, %d access tokens"


def rebuild(pool: ConnectionPool, revocations: RevocationList, tokens: TokenSettings) -> tuple[int, int, int]:
    """Write every still-relevant revocation and access-token entry to Redis; (sessions, cutoffs, tokens).

    Personal access tokens of enabled users get their entries back (roles
    given and still held), so a Redis that lost its data refuses none of them
    once rebuilt, and lets none of a disabled user's back in.
    """
    window = entry_ttl(tokens.access_ttl, tokens.leeway)
    with pool.connection() as conn:
        ended_sessions = store.recently_ended_sessions(conn, window)
        cutoffs = store.recent_user_cutoffs(conn, window)
        token_rows = access_token_store.all_entries(conn, pats.EXPIRED_GRACE_SECONDS)
    now = time.time()
    sessions = [(sid, math.ceil(ended + window - now)) for sid, ended in ended_sessions]
    sessions = [(sid, ttl) for sid, ttl in sessions if ttl > 0]
    if sessions:
        revocations.restore_sessions(sessions)
    for user_id, cutoff in cutoffs:
        ttl = math.ceil(cutoff + window - now)
        if ttl > 0:
            revocations.set_user_cutoff(user_id, cutoff, ttl)
    entries = access_tokens.redis_entries(token_rows)
    for start in range(0, len(entries), 1000):
        revocations.write_entries(entries[start : start + 1000])
    revocations.mark_ready()
    metrics.REVOCATION_REBUILDS.labels(result="ok").inc()
    return len(sessions), len(cutoffs), len(entries)


def start_rebuild_watcher(pool: ConnectionPool, revocations: RevocationList, tokens: TokenSettings) -> None:
    """Start a daemon thread that rebuilds after every Redis restart or data loss."""

    def watch() -> None:
        seen_run_id = None
        while True:
            try:
                run_id = revocations.server_run_id()
                if run_id != seen_run_id or not revocations.is_ready():
                    written = rebuild(pool, revocations, tokens)
                    log.info(REBUILT, *written)
                    seen_run_id = run_id
            except Exception as exc:  # Redis or Postgres down: try again next round
                metrics.REVOCATION_REBUILDS.labels(result="failed").inc()
                log.debug("revocation watcher: %s", type(exc).__name__)
            time.sleep(WATCH_INTERVAL_SECONDS)

    threading.Thread(target=watch, name="revocation-rebuild", daemon=True).start()


def main() -> int:
    """Command-line entry point: rebuild once."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        log.error("invalid settings: %s", exc)
        return 2
    pool = open_pool(settings.database_url, max_size=1)
    try:
        revocations = RevocationList(
            make_redis(settings.redis_url, settings.redis_password),
            settings.tokens.access_ttl,
            settings.tokens.leeway,
        )
        written = rebuild(pool, revocations, settings.tokens)
    except redis.RedisError as exc:
        log.error("Redis unavailable: %s", type(exc).__name__)
        return 1
    finally:
        pool.close()
    log.info(REBUILT, *written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
