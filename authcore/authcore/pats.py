"""Personal access tokens: their format, their Redis entry, and how api_service resolves one.

A token is ``pat_`` + 256 random bits in base64url (43 characters) + a
6-character checksum (CRC-32 of the random part, base64url), so secret
scanners can tell a real token from a random string without asking us.
The stack stores only its SHA-256.

auth_service keeps one Redis entry per token, ``pat:<sha-256 hex>``, whose
value is the identity the token stands for (user, roles it was given *and*
the user still holds, expiry). It writes, rewrites and deletes that entry
inside the Postgres transaction of every change that affects it (creation,
revocation, a role change, disabling, a reset), so the entry alone is the
whole check: api_service reads it in the very ``MGET`` that reads the
revocation list's ready marker, one round trip as for an access token.

Use is noted without a write per request: each api_service worker notes a
token at most once per ``USAGE_NOTE_SECONDS`` in memory, and a background
thread appends those notes to one capped stream (``pat-usage``) that
auth_service folds into ``last_used_at`` in batches.
"""

import base64
import hashlib
import logging
import os
import re
import secrets
import threading
import time
import zlib
from typing import TypeVar

import orjson
import redis
from redis.typing import EncodableT, FieldT

from authcore import metrics
from authcore.errors import InvalidTokenError
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims

V = TypeVar("V")

log = logging.getLogger(__name__)

PREFIX = "pat_"
SECRET_BYTES = 32
KEY_PREFIX = "pat:"
USAGE_STREAM = "pat-usage"
# Roughly the stream's length cap: far more than auth_service leaves unfolded
# between two folds, small enough that a flood can't fill Redis.
USAGE_STREAM_MAX = 10_000
USAGE_NOTE_SECONDS = 60
# An expired token's entry stays this long after expiry, so its use is told
# apart from an unknown token's (the pat_expired_use event).
EXPIRED_GRACE_SECONDS = 7 * 24 * 3600
# 43 base64url characters (the last with its 2 unused bits zero: one spelling
# per token), then the 6-character checksum.
_TOKEN = re.compile(r"pat_([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])([A-Za-z0-9_-]{6})")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def checksum(body: str) -> str:
    """The 6-character checksum of a token's random part."""
    return _b64(zlib.crc32(body.encode("ascii")).to_bytes(4, "big"))


def new_token() -> str:
    """A fresh token: ``pat_`` + 256 random bits + checksum (shown once, never stored)."""
    body = _b64(secrets.token_bytes(SECRET_BYTES))
    return PREFIX + body + checksum(body)


def check_format(token: str) -> str | None:
    """None if ``token`` is a well-formed token with a good checksum, else the metrics result."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return "malformed"
    # Both are public values (the checksum is not a secret): a plain comparison is fine.
    return None if checksum(match.group(1)) == match.group(2) else "bad_checksum"


def token_hash(token: str) -> bytes:
    """The SHA-256 the stack stores instead of the token."""
    return hashlib.sha256(token.encode("ascii")).digest()


def entry_key(digest: bytes) -> str:
    """The Redis key of a token's identity entry."""
    return KEY_PREFIX + digest.hex()


def identity_value(
    *,
    token_id: str,
    user_id: str,
    username: str,
    roles: list[str],
    email_verified: bool,
    created_at: float,
    expires_at: int,
) -> str:
    """The JSON auth_service writes to a token's entry."""
    body = {
        "id": token_id,
        "sub": user_id,
        "username": username,
        "roles": sorted(roles),
        "email_verified": email_verified,
        "iat": created_at,
        "exp": expires_at,
    }
    return orjson.dumps(body).decode("ascii")


def entry_ttl(expires_at: int, now: float | None = None) -> int:
    """Seconds an entry lives: until its token's expiry plus the grace that recognises late use."""
    now = time.time() if now is None else now
    return max(1, int(expires_at + EXPIRED_GRACE_SECONDS - now))


def claims_from_identity(value: str) -> AccessClaims:
    """The claims of an entry: no session and no second factor (``amr`` empty), ever.

    Raises ``ValueError``/``KeyError``/``TypeError`` on a value auth_service did not write.
    """
    body = orjson.loads(value)
    roles = body["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise TypeError("roles must be a list of strings")
    for name in ("id", "sub", "username"):
        if not isinstance(body[name], str) or not body[name]:
            raise TypeError(f"{name} must be a non-empty string")
    return AccessClaims(
        user_id=body["sub"],
        username=body["username"],
        session_id=None,
        token_id=body["id"],
        issued_at=float(body["iat"]),
        expires_at=int(body["exp"]),
        roles=tuple(roles),
        email_verified=body["email_verified"] is True,
        amr=(),
    )


_COUNTERS: dict[str, metrics.Metric] = {}


def count(result: str) -> None:
    """Count one personal-access-token check by outcome."""
    counter = _COUNTERS.get(result)
    if counter is None:
        # A label lookup takes a lock and builds a tuple: remember the child.
        counter = _COUNTERS[result] = metrics.PAT_CHECKS.labels(result=result)
    counter.inc()


class AccessTokenReader:
    """Resolves ``pat_`` tokens for api_service's ``Authenticator``: one Redis round trip each."""

    def __init__(self, revocations: RevocationList, usage: "UsageNotes", max_entries: int = 4096):
        self._revocations = revocations
        self._usage = usage
        self._max_entries = max_entries
        # What never changes for one exact string, remembered like authcore.token_cache
        # does for access tokens: a well-formed token's key, an entry value's claims.
        # The entry itself is read from Redis on every request: revocation is never cached.
        self._keys: dict[str, str] = {}
        self._claims: dict[str, AccessClaims] = {}

    def authenticate(self, token: str) -> AccessClaims:
        """The identity a token stands for, or ``InvalidTokenError`` (401); Redis errors propagate (503)."""
        key = self._keys.get(token)
        if key is None:
            problem = check_format(token)
            if problem:
                count(problem)
                raise InvalidTokenError()
            key = self._remember(self._keys, token, entry_key(token_hash(token)))
        value = self._revocations.read_entry(key)
        if value is None:
            count("unknown")
            raise InvalidTokenError()
        claims = self._claims.get(value)
        if claims is None:
            try:
                claims = self._remember(self._claims, value, claims_from_identity(value))
            except (ValueError, KeyError, TypeError):
                log.error("unreadable personal access token entry")
                count("unknown")
                raise InvalidTokenError() from None
        if claims.expires_at <= time.time():
            count("expired")
            self._usage.note(claims.token_id, expired=True)
            raise InvalidTokenError()
        count("ok")
        self._usage.note(claims.token_id)
        return claims

    def _remember(self, table: dict[str, V], key: str, value: V) -> V:
        if len(table) >= self._max_entries:
            table.clear()  # cheaper than tracking use; a full table only means recomputing
        table[key] = value
        return value


class UsageNotes:
    """Notes of token use, sent to the ``pat-usage`` stream by a background thread.

    At most one note per token, outcome and ``interval`` seconds per
    process: the request path only touches a dict, never Redis. Notes that
    can't be sent (Redis away) are dropped: ``last_used_at`` is a hint.
    """

    def __init__(
        self,
        client: redis.Redis,
        interval: float = USAGE_NOTE_SECONDS,
        max_tokens: int = 4096,
        stream: str = USAGE_STREAM,
    ):
        self._redis = client
        self._stream = stream
        self._interval = interval
        self._max_tokens = max_tokens
        self._last: dict[tuple[str, bool], float] = {}
        self._pending: list[dict[FieldT, EncodableT]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread_pid: int | None = None

    def note(self, token_id: str, expired: bool = False) -> None:
        """Remember that a token was used (or tried after its expiry) now."""
        now = time.monotonic()
        key = (token_id, expired)
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            return
        with self._lock:
            if len(self._last) >= self._max_tokens:
                self._last.clear()  # at worst one note too many per token
            self._last[key] = now
            note: dict[FieldT, EncodableT] = {
                "id": token_id,
                "at": f"{time.time():.3f}",
                "expired": "1" if expired else "0",
            }
            self._pending.append(note)
        self._ensure_thread()
        self._wake.set()

    def flush(self) -> int:
        """Send the pending notes in one pipelined round trip; how many were sent."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        pipe = self._redis.pipeline(transaction=False)
        for fields in pending:
            pipe.xadd(self._stream, fields, maxlen=USAGE_STREAM_MAX, approximate=True)
        pipe.execute()
        return len(pending)

    def _ensure_thread(self) -> None:
        # gunicorn forks workers after the app is built: each process starts its own sender.
        if self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
        threading.Thread(target=self._run, name="pat-usage", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.flush()
            except redis.RedisError as exc:
                log.warning("could not note token use: %s", type(exc).__name__)
            time.sleep(1.0)  # batch what arrives meanwhile


def reader_for(revocations: RevocationList, client: redis.Redis) -> AccessTokenReader:
    """The ``AccessTokenReader`` of a service, noting use through ``client``."""
    return AccessTokenReader(revocations, UsageNotes(client))
