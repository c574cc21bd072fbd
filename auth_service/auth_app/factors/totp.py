"""TOTP (RFC 6238) as every authenticator app reads it: 6 digits, 30-second steps, SHA-1.

pyotp computes and checks the codes, segno draws the QR code (SVG markup,
made here, no network). A code is accepted with one step of clock skew
either way (``valid_window=1``); the caller records the step it matched so
that a code is taken once (``factors.store.use_totp_step``).
"""

import hmac
import re
from datetime import UTC, datetime

import pyotp
import segno

ISSUER = "authstack"
DIGITS = 6
STEP_SECONDS = 30
VALID_WINDOW = 1
CODE = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """A fresh random secret in base32 (160 bits, RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The URI as a QR code: standalone SVG markup (no XML declaration), dark on light."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def looks_like_code(code: str) -> bool:
    """Six ASCII digits (what the app shows; spaces are the client's to remove)."""
    return CODE.fullmatch(code) is not None


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code ``code`` is (the current one or a neighbour), or None."""
    now = now or datetime.now(UTC)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    if not looks_like_code(code) or not totp.verify(code, for_time=now, valid_window=VALID_WINDOW):
        return None
    current = totp.timecode(now)
    for offset in (-VALID_WINDOW, 0, VALID_WINDOW):
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            return current + offset
    return None
