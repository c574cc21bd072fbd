"""Is a secret strong enough to sign tokens or guard a data store?

Two checks, both offline: the secret must not be one published on the
internet (a list of public JWT secrets ships in ``authcore/data``), and its
estimated entropy must reach ``MIN_ENTROPY_BITS``. The estimate is
deliberately pessimistic: the smaller of "length x bits of the character
classes used" and "length x Shannon entropy of the characters' frequencies",
so long secrets made of few distinct characters, or of words, fall short.
"""

import math
from collections import Counter
from functools import cache
from pathlib import Path

MIN_BYTES = 32
MIN_ENTROPY_BITS = 128
PUBLIC_SECRETS_FILE = Path(__file__).with_name("data") / "public_jwt_secrets.txt"
HOW_TO_GENERATE = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'

# Sizes of the character classes a secret may draw from.
_CLASSES = (
    (str.islower, 26),
    (str.isupper, 26),
    (str.isdigit, 10),
)
_OTHER_PRINTABLE = 33  # punctuation and space of ASCII


@cache
def public_secrets() -> frozenset[str]:
    """The published secrets shipped with authcore (see data/README.md)."""
    text = PUBLIC_SECRETS_FILE.read_text("utf-8")
    # Stripped too: settings are read stripped of surrounding blanks.
    return frozenset(entry for line in text.split("\n") if line for entry in (line, line.strip()))


def estimated_entropy_bits(secret: str) -> float:
    """A pessimistic estimate of the secret's entropy, in bits."""
    if not secret:
        return 0.0
    pool = sum(size for test, size in _CLASSES if any(test(char) for char in secret if char.isascii()))
    if any(not char.isascii() for char in secret):
        pool += 100  # generous: any letter of any script
    if any(char.isascii() and not char.isalnum() for char in secret):
        pool += _OTHER_PRINTABLE
    by_classes = len(secret) * math.log2(max(pool, 2))
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return min(by_classes, len(secret) * per_char)


def weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak (a phrase without the secret in it), or None if it is fine."""
    if len(secret.encode("utf-8")) < MIN_BYTES:
        return f"is shorter than {MIN_BYTES} bytes"
    if secret in public_secrets():
        return "is a published secret (it appears in public JWT-secret word lists)"
    if estimated_entropy_bits(secret) < MIN_ENTROPY_BITS:
        return f"has less than about {MIN_ENTROPY_BITS} bits of entropy"
    return None
