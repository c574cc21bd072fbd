"""Recovery codes: ten single-use codes for when the authenticator is lost.

Each is 16 characters from a 30-letter alphabet (78 random bits), shown as
four groups of four (``abcd-efgh-jkmn-pqrs``). Only its SHA-256 is stored:
with 78 bits of randomness a database dump can't be searched back to a
code. Single use is the database's job (``factors.store.use_recovery_code``).
"""

import hashlib
import re
import secrets

COUNT = 10
# No 0/o, 1/l/i, u: nothing to misread when typing one from paper. 30 letters,
# 16 of them: 78 random bits.
ALPHABET = "abcdefghjkmnpqrstvwxyz23456789"
GROUPS, GROUP_LENGTH = 4, 4
SHAPE = re.compile(rf"[{ALPHABET}]{{{GROUPS * GROUP_LENGTH}}}")
# What a client may send: the code with or without its hyphens and spaces, any case.
MAX_INPUT_CHARS = 40


def generate() -> list[str]:
    """``COUNT`` new codes, formatted for display."""
    codes = []
    for _ in range(COUNT):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
        codes.append("-".join(raw[i : i + GROUP_LENGTH] for i in range(0, len(raw), GROUP_LENGTH)))
    return codes


def normalise(code: str) -> str | None:
    """The code's canonical form (lower case, no separators), or None if it can't be one."""
    if len(code) > MAX_INPUT_CHARS:
        return None
    canonical = code.replace("-", "").replace(" ", "").lower()
    return canonical if SHAPE.fullmatch(canonical) else None


def code_hash(code: str) -> bytes:
    """What is stored of a code (its canonical form's SHA-256)."""
    canonical = normalise(code)
    if canonical is None:
        raise ValueError("not a recovery code")
    return hashlib.sha256(canonical.encode("ascii")).digest()
