"""Password hashing with bcrypt, and a timing-equal check for unknown users.

Every hash and check waits its turn for a bcrypt slot (``auth_app.password_slots``:
a bounded wait, 429 beyond ``PASSWORD_QUEUE_DEADLINE``).
"""

import functools

import bcrypt

from auth_app.password_slots import queue
from auth_app.request_timing import seconds_queued


def hash_password(password: str, rounds: int) -> str:
    """A bcrypt hash of ``password`` at cost ``rounds`` (429 if the queue is too long)."""
    with queue.turn(seconds_queued(), "hash"):
        return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True if ``password`` matches ``password_hash`` (429 if the queue is too long).

    With no hash (unknown user) a dummy hash of the same cost is checked, so
    an unknown user and a wrong password take the same time.
    """
    candidate = password.encode("utf-8")
    if len(candidate) > 72:
        candidate = b""  # bcrypt 5 raises on >72 bytes; such a password never matched
    target = (password_hash or _dummy_hash(rounds)).encode("ascii")
    with queue.turn(seconds_queued(), "check"):
        return bcrypt.checkpw(candidate, target) and password_hash is not None


def hash_cost(password_hash: str) -> int | None:
    """The cost a bcrypt hash was made with (``$2b$12$...`` -> 12); None if unreadable."""
    parts = password_hash.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


@functools.cache
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(b"not-a-real-password-just-for-timing", bcrypt.gensalt(rounds)).decode("ascii")
