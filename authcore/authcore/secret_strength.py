"""Is a secret strong enough to sign tokens or guard a data store?

Three checks, all offline: the secret must not be one published on the
internet (a list of public JWT secrets ships in ``authcore/data``); its
estimated entropy must reach ``MIN_ENTROPY_BITS``, estimated pessimistically
as the smaller of "length x bits of the character classes used" and "length
x Shannon entropy of the characters' frequencies" (so long secrets of few
distinct characters fall short); and zxcvbn, the password-strength estimator
that knows keyboard rows, alphabet and digit runs, dictionary words, names,
dates and repeats, must not find it made of such pieces worth fewer than
MIN_ENTROPY_BITS, nor of words with a year (``guessable``).
"""

import math
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from zxcvbn import zxcvbn

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
# zxcvbn's matching grows faster than linearly with length: a secret is judged
# by its first 256 characters (a longer one with a weak start is refused: fail closed).
GUESS_CHECK_MAX_CHARS = 256
# Words of this stack's own vocabulary count as known words.
_CONTEXT_WORDS = ["authstack", "jwt", "secret", "token", "tokens", "key", "production", "prod", "staging"]
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")


@cache
def public_secrets() -> frozenset[str]:
    """The published secrets shipped with authcore (see data/README.md)."""
    text = PUBLIC_SECRETS_FILE.read_text("utf-8")
    # Stripped too: settings are read stripped of surrounding blanks.
    return frozenset(entry for line in text.split("\n") if line for entry in (line, line.strip()))


def _pool_size(text: str) -> int:
    """How many characters the classes used in ``text`` hold (at least 2)."""
    pool = sum(size for test, size in _CLASSES if any(test(char) for char in text if char.isascii()))
    if any(not char.isascii() for char in text):
        pool += 100  # generous: any letter of any script
    if any(char.isascii() and not char.isalnum() for char in text):
        pool += _OTHER_PRINTABLE
    return max(pool, 2)


def estimated_entropy_bits(secret: str) -> float:
    """A pessimistic estimate of the secret's entropy, in bits."""
    if not secret:
        return 0.0
    by_classes = len(secret) * math.log2(_pool_size(secret))
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return min(by_classes, len(secret) * per_char)


def _kind(match: dict[str, Any]) -> str:
    """What kind of guessable piece a zxcvbn match is (never the piece itself)."""
    pattern: str = match["pattern"]
    if pattern == "dictionary":
        if match.get("dictionary_name") == "passwords":
            return "common passwords or keyboard rows"
        if match.get("dictionary_name") == "user_inputs":
            return "words of this stack's own vocabulary"
        return "dictionary words or names"
    return {
        "sequence": "alphabet or digit runs",
        "spatial": "keyboard patterns",
        "repeat": "repeated characters",
        "date": "dates or years",
        "regex": "dates or years",
    }.get(pattern, pattern)


def _segment_bits(match: dict[str, Any]) -> float:
    """Bits of one piece: zxcvbn's guesses for a known pattern; for a random-looking
    piece, its length x bits of its own character classes (zxcvbn prices those at
    10 per character, which would refuse a random 32-byte secret)."""
    if match["pattern"] == "bruteforce":
        return len(match["token"]) * math.log2(_pool_size(match["token"]))
    return math.log2(max(float(match["guesses"]), 1.0))


def guessable(secret: str) -> str | None:
    """Why ``secret`` is guessable (the kinds of pieces found, never the pieces), or None.

    Guessable: zxcvbn's decomposition, priced as ``_segment_bits`` says, is
    below ``MIN_ENTROPY_BITS``; or it holds a year and at least half of it is
    dictionary words ("MyCompanyName-JWT-Secret-2024-Production").
    """
    checked = secret[:GUESS_CHECK_MAX_CHARS]
    matches = zxcvbn(checked, user_inputs=_CONTEXT_WORDS)["sequence"]
    bits = sum(_segment_bits(match) for match in matches)
    in_words = sum(len(match["token"]) for match in matches if match["pattern"] == "dictionary")
    words_and_year = bool(_YEAR.search(checked)) and in_words * 2 >= len(checked)
    if bits >= MIN_ENTROPY_BITS and not words_and_year:
        return None
    kinds = {_kind(match) for match in matches if match["pattern"] != "bruteforce"}
    if _YEAR.search(checked):
        kinds.add("dates or years")
    made_of = f" (made of {', '.join(sorted(kinds))})" if kinds else ""
    if bits >= MIN_ENTROPY_BITS:
        return f"is guessable{made_of}: words with a year"
    return f"is guessable{made_of}: about {bits:.0f} bits, {MIN_ENTROPY_BITS} needed"


def weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak (a phrase without the secret in it), or None if it is fine."""
    if len(secret.encode("utf-8")) < MIN_BYTES:
        return f"is shorter than {MIN_BYTES} bytes"
    if secret in public_secrets():
        return "is a published secret (it appears in public JWT-secret word lists)"
    if estimated_entropy_bits(secret) < MIN_ENTROPY_BITS:
        return f"has less than about {MIN_ENTROPY_BITS} bits of entropy"
    return guessable(secret)
