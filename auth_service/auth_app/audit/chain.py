"""The audit trail's hash chain: walk it and report the first broken link.

Migration 009 chains every row of ``audit_events``: ``row_hash`` is
sha256(``prev_hash`` || the row's canonical text), ``prev_hash`` the row
before's ``row_hash`` (or, after pruning, the anchor's), ``seq`` counts
1, 2, 3... The canonical text comes from the database's
``audit_event_canonical`` (one definition for writing and checking); the
hashes are recomputed here, so a row changed, removed or slipped in by
anyone, the superuser included, shows where it happened. Dropping the newest
rows leaves no broken link: keep the reported ``head`` elsewhere to catch that.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from psycopg import Connection
from psycopg.pq import TransactionStatus

ZERO_HASH = bytes(32)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one walk of the chain."""

    checked: int
    first_broken: dict[str, Any] | None
    head: dict[str, Any] | None

    @property
    def intact(self) -> bool:
        """True if no link is broken."""
        return self.first_broken is None

    def body(self) -> dict[str, Any]:
        """As ``make audit-verify`` prints it and GET /auth/audit/verify answers it."""
        return {
            "intact": self.intact,
            "checked": self.checked,
            "first_broken": self.first_broken,
            "head": self.head,
        }


def _broken(seq: int, event_id: int, problem: str) -> dict[str, Any]:
    return {"seq": seq, "id": str(event_id), "problem": problem}


def verify(conn: Connection) -> Verdict:
    """Walk the whole chain in ``seq`` order, in one snapshot; the first broken link, if any.

    Problems: ``row_changed`` (its content no longer matches its hash),
    ``link_broken`` (its ``prev_hash`` is not the row before's hash: a row
    before it was changed, removed or inserted), ``seq_gap`` (rows missing).
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        return _walk(conn)  # inside the caller's transaction, in its snapshot
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _walk(conn)


def _walk(conn: Connection) -> Verdict:
    anchor = conn.execute("SELECT seq, row_hash FROM audit_chain_anchor").fetchone()
    expected_seq, expected_prev = (anchor[0] + 1, bytes(anchor[1])) if anchor else (1, ZERO_HASH)
    checked, head = 0, None
    with conn.cursor(name="audit_chain") as cur:  # server-side: the trail may be long
        cur.itersize = 2000
        cur.execute(
            "SELECT seq, id, prev_hash, row_hash, audit_event_canonical(e) FROM audit_events e ORDER BY seq"
        )
        for seq, event_id, prev_hash, row_hash, canonical in cur:
            checked += 1
            prev_hash, row_hash = bytes(prev_hash), bytes(row_hash)
            if seq != expected_seq:
                return Verdict(checked, _broken(seq, event_id, "seq_gap"), head)
            if prev_hash != expected_prev:
                return Verdict(checked, _broken(seq, event_id, "link_broken"), head)
            if hashlib.sha256(prev_hash + canonical.encode("utf-8")).digest() != row_hash:
                return Verdict(checked, _broken(seq, event_id, "row_changed"), head)
            head = {"seq": seq, "id": str(event_id), "row_hash": row_hash.hex()}
            expected_seq, expected_prev = seq + 1, row_hash
    return Verdict(checked, None, head)
