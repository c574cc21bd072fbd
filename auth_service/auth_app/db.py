"""The Postgres connection pool of one auth_service worker, and a deadline on its use.

gunicorn loads the app in each worker after the fork (no preload), so the
pool opened in ``create_app`` belongs to that worker alone. Connections run
in autocommit (a pooled query costs ~45 us instead of ~125 us); code that
needs several statements to commit together uses ``conn.transaction()``.

psycopg has no client-side query timeout, and a stalled server (SIGSTOP, a
frozen VM) never answers, so ``statement_timeout`` can't fire either: a
request would hang until nginx gives up, and with it a worker thread. So
every use of a connection runs under a deadline: when it passes, the
socket is shut down, psycopg raises ``OperationalError`` (answered 503) and
the pool throws the connection away.
"""

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool

# Waiting longer than this for a connection means Postgres is down or
# overloaded: better a quick 503 than a request stuck behind it.
POOL_TIMEOUT_SECONDS = 3
# Per-statement limit, set server-side, so no query runs away...
STATEMENT_TIMEOUT_MS = 4000
# ...and a client-side limit on a whole unit of work, for a server that can't answer at all.
DEADLINE_SECONDS = 5.0
CHECK_DEADLINE_SECONDS = 1.0


def _cut_after(conn: Connection, seconds: float) -> threading.Timer:
    """Shut the connection's socket down unless cancelled within ``seconds``."""

    def cut() -> None:
        try:
            with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    return timer


def _check_with_deadline(conn: Connection) -> None:
    """The pool's liveness check (one empty round trip), bounded in time."""
    timer = _cut_after(conn, CHECK_DEADLINE_SECONDS)
    try:
        ConnectionPool.check_connection(conn)
    finally:
        timer.cancel()


class DeadlinePool(ConnectionPool):
    """A ``ConnectionPool`` whose ``connection()`` blocks run under a deadline."""

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[Connection]:
        """A pooled connection, cut off if the work on it outlasts ``DEADLINE_SECONDS``."""
        with super().connection(timeout) as conn:
            timer = _cut_after(conn, DEADLINE_SECONDS)
            try:
                yield conn
            finally:
                timer.cancel()


def open_pool(database_url: str, max_size: int) -> DeadlinePool:
    """Open a pool for ``database_url`` without waiting for Postgres to answer."""
    pool = DeadlinePool(
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
        check=_check_with_deadline,
        open=False,
        name="auth",
    )
    pool.open(wait=False)
    return pool


def database_reachable(database_url: str) -> bool:
    """True if one connection to ``database_url`` can be made (checked at start)."""
    try:
        with psycopg.connect(database_url, connect_timeout=POOL_TIMEOUT_SECONDS):
            return True
    except psycopg.OperationalError:
        return False
