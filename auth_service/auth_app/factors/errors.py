"""The errors of second factors, in the stack's one JSON error shape (``authcore.errors``)."""

from authcore.errors import ApiError, Conflict, InvalidCredentials, ValidationFailed


class InvalidMfaToken(ApiError):
    """The ``mfa_token`` is not a live one: unknown, malformed, used, expired or killed by failures."""

    status, code = 401, "invalid_mfa_token"
    message = "The second-step token is invalid or expired: log in again."


class InvalidMfaCode(ApiError):
    """The code is not a current authentication code nor an unused recovery code of the user."""

    status, code, message = 401, "invalid_mfa_code", "The code is wrong, expired or already used."


def bad_code_shape() -> ValidationFailed:
    """A ``code`` that can't be any code (wrong length, not digits, huge)."""
    return ValidationFailed(fields={"code": "must be a 6-digit code or a recovery code"})


def wrong_code() -> ValidationFailed:
    """A well-formed code that is not a valid one (enrolment routes: a 422 on the field)."""
    return ValidationFailed(fields={"code": "is incorrect, expired or already used"})


def totp_already_on() -> Conflict:
    """Setting TOTP up while it is on (turn it off first)."""
    return Conflict("totp_already_enabled", "Two-factor authentication is already on; turn it off first.")


def totp_not_on() -> Conflict:
    """Disabling, or asking for codes, while TOTP is off."""
    return Conflict("totp_not_enabled", "Two-factor authentication is not on.")


def nothing_pending() -> Conflict:
    """Confirming without a pending secret."""
    return Conflict("totp_not_pending", "Set up two-factor authentication first (POST /auth/mfa/totp).")


class PasskeysUnavailable(ApiError):
    """Passkeys are off: ``PUBLIC_URL``'s host is an IP address, which can't be a WebAuthn RP ID."""

    status, code = 503, "passkeys_unavailable"
    message = "Passkeys are not available on this site (its public address is not a domain name)."


class ReauthenticationRequired(ApiError):
    """Adding or removing a passkey needs a session signed in at most 10 minutes ago."""

    status, code = 403, "reauthentication_required"
    message = "Sign in again (within the last 10 minutes) to change your passkeys."


class InvalidPasskey(InvalidCredentials):
    """A passkey sign-in that didn't verify: unknown or removed credential, stale challenge, bad signature."""

    message = "The passkey could not be verified."


def passkey_not_accepted(reason: str) -> ValidationFailed:
    """A registration the library refused, or that answers no live challenge of the caller."""
    return ValidationFailed(fields={"credential": reason})


def passkey_taken() -> Conflict:
    """Registering a credential that is registered already."""
    return Conflict("passkey_exists", "This passkey is registered already.")


def no_passkeys() -> Conflict:
    """Asking for passkey options at a second step of a user without passkeys."""
    return Conflict("passkey_not_enabled", "This account has no passkey; use another method.")
