"""Folding api_service's notes of token use (the ``pat-usage`` stream) into ``last_used_at``.

api_service appends at most one note per token per minute and worker to a
capped Redis stream (``authcore.pats.UsageNotes``); a thread in each
auth_service worker takes the notes in batches every ``FOLD_EVERY_SECONDS``
and moves each token's ``last_used_at`` forward. A batch is taken and
deleted from the stream in one atomic step, so two workers never fold the
same note (and never record one ``pat_expired_use`` twice). So
``last_used_at`` is at most about a minute and a half behind, and notes
lost to a Redis restart or an outage only make it older: it is a hint for
the owner, never a security decision.
"""

import logging
import threading
import time
import uuid
from typing import Any

import redis
from psycopg_pool import ConnectionPool

from auth_app import access_token_store as token_store
from auth_app import audit
from authcore import pats

log = logging.getLogger(__name__)
FOLD_EVERY_SECONDS = 30
BATCH = 1000

# Take up to ARGV[1] of the oldest notes and delete them, atomically.
_TAKE_BATCH = """
local notes = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[1])
for _, note in ipairs(notes) do redis.call('XDEL', KEYS[1], note[1]) end
return notes
"""


def take_batch(
    client: redis.Redis, size: int = BATCH, stream: str = pats.USAGE_STREAM
) -> list[dict[str, Any]]:
    """Remove and return up to ``size`` of the oldest notes (each ``{id, at, expired}``)."""
    # EVALSHA, loading the script once: auth_service's Redis user may not EVAL (stores/redis/users.acl).
    notes = client.register_script(_TAKE_BATCH)(keys=[stream], args=[size])
    batch = []
    for _entry_id, flat in notes:
        batch.append(dict(zip(flat[::2], flat[1::2], strict=True)))
    return batch


def summarise(batch: list[dict[str, Any]]) -> tuple[dict[uuid.UUID, float], set[uuid.UUID]]:
    """(latest use by token, tokens tried after expiry) of a batch; unreadable notes are skipped."""
    last_used: dict[uuid.UUID, float] = {}
    expired: set[uuid.UUID] = set()
    for note in batch:
        try:
            token_id, at = uuid.UUID(note["id"]), float(note["at"])
        except (KeyError, ValueError, TypeError):
            continue
        if note.get("expired") == "1":
            expired.add(token_id)
        else:
            last_used[token_id] = max(at, last_used.get(token_id, 0.0))
    return last_used, expired


def fold_once(pool: ConnectionPool, client: redis.Redis, stream: str = pats.USAGE_STREAM) -> int:
    """Fold one batch of notes into Postgres; how many notes were taken."""
    batch = take_batch(client, stream=stream)
    if not batch:
        return 0
    last_used, expired = summarise(batch)
    with pool.connection() as conn, conn.transaction():
        for token_id, at in sorted(last_used.items()):
            token_store.record_use(conn, token_id, at)
        for token_id in sorted(expired):
            owner = token_store.owner_of(conn, token_id)
            if owner is not None:
                audit.record(
                    conn,
                    "pat_expired_use",
                    result=audit.FAILURE,
                    actor=owner,
                    target=owner,
                    details={"token_id": str(token_id)},
                )
    return len(batch)


def start_usage_folding(pool: ConnectionPool, client: redis.Redis) -> None:
    """Start the daemon thread that folds the notes every ``FOLD_EVERY_SECONDS``."""

    def loop() -> None:
        while True:
            time.sleep(FOLD_EVERY_SECONDS)
            try:
                while fold_once(pool, client) == BATCH:
                    pass  # a full batch: more may be waiting
            except Exception as exc:  # Redis or Postgres down: the next round tries again
                log.warning("folding token use failed: %s", type(exc).__name__)

    threading.Thread(target=loop, name="pat-usage-fold", daemon=True).start()
