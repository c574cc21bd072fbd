"""The provider's own browser session: an HttpOnly, SameSite=Lax cookie bound to one of the user's sessions.

The page's refresh cookie is SameSite=Strict, so a navigation another site
starts (a relying party sending the person to our authorize endpoint)
carries none; this cookie is sent on such top-level GETs and nowhere else
(Path is the provider's). It holds 256 random bits; Postgres keeps their
SHA-256 beside the session's id, and the cookie counts only while that
session is active, so logout-all, a password change, disabling or ending
the session ends it too.
"""

import hashlib
import secrets
import uuid

from flask import Request, Response
from psycopg_pool import ConnectionPool

from auth_app.oidc import grant_store
from auth_app.oidc.grant_store import BrowserSession

COOKIE_NAME = "oidc_session"
COOKIE_PATH = "/auth/oauth2/"
MAX_COOKIE_CHARS = 100


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def current(pool: ConnectionPool, flask_request: Request) -> BrowserSession | None:
    """The live session behind the request's cookie, or None."""
    token = flask_request.cookies.get(COOKIE_NAME, "")
    if not token or len(token) > MAX_COOKIE_CHARS:
        return None
    with pool.connection() as conn:
        return grant_store.find_browser_session(conn, _hash(token))


def start(pool: ConnectionPool, session_id: str, lifetime: int, response: Response, secure: bool) -> None:
    """Bind a new cookie to ``session_id`` and set it on ``response``."""
    token = secrets.token_urlsafe(32)
    with pool.connection() as conn, conn.transaction():
        grant_store.insert_browser_session(conn, _hash(token), uuid.UUID(session_id), lifetime)
    response.set_cookie(
        COOKIE_NAME, token, max_age=lifetime, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Lax"
    )


def clear(response: Response, secure: bool) -> None:
    """Remove the cookie from the browser."""
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Lax")


def current_by_session(pool: ConnectionPool, session_id: str) -> BrowserSession | None:
    """The live session ``session_id`` as a browser session (right after a login on our page)."""
    with pool.connection() as conn:
        return grant_store.find_session(conn, uuid.UUID(session_id))
