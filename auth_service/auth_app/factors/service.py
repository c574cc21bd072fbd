"""Second factors of one auth_service worker: enrolment, the second login step, an admin's reset.

Every change to a user's factors runs in a transaction that first locks the
user's row FOR UPDATE (``auth_app.revoking.lock_user``); the second login
step opens its session through ``Sessions.open``, which locks the row FOR
SHARE like a password login. So a disable, an admin reset, a password change
or a disabled account that lands while a second step runs is ordered
against it: either the step's session exists first and is ended, or the
step finds the factor, its token or the account gone and opens nothing.
"""

import hashlib
import uuid
from typing import Any, cast

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import audit
from auth_app import store as app_store
from auth_app.factors import errors, passkey_store, recovery_codes, totp
from auth_app.factors import store as factor_store
from auth_app.factors.errors import InvalidMfaCode, InvalidMfaToken
from auth_app.factors.login_tokens import (
    MAX_FAILURES,
    TTL_SECONDS,
    hash_login_token,
    looks_like_login_token,
    new_login_token,
)
from auth_app.factors.secret_box import SecretBox
from auth_app.mail import account_events as account_mail
from auth_app.passwords import check_password
from auth_app.revoking import cut_off_user, end_access_tokens, end_all_sessions, lock_user
from auth_app.sessions import ClientInfo, Sessions
from auth_app.settings import Settings
from auth_app.throttle import LoginThrottle
from auth_app.validation import normalise_username
from authcore import metrics
from authcore.errors import InvalidCredentials, NotFound, TooManyRequests, ValidationFailed
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims

TOTP, RECOVERY_CODE, PASSKEY = "totp", "recovery_code", "passkey"
# RFC 8176: a password, then a one-time password; "mfa" marks the second factor.
AMR_PASSWORD_AND_OTP = ("mfa", "otp", "pwd")


class _WrongCode(Exception):
    """Inside a transaction: the code didn't match (the transaction rolls back, then it is counted)."""


def code_kind(code: str) -> str:
    """``totp`` or ``recovery_code`` by the code's shape; 422 ``fields.code`` if it is neither."""
    if totp.looks_like_code(code):
        return TOTP
    if recovery_codes.normalise(code) is not None:
        return RECOVERY_CODE
    raise errors.bad_code_shape()


def password_fingerprint(password_hash: str) -> bytes:
    """What a pending second step remembers of the password hash it followed."""
    return hashlib.sha256(password_hash.encode("utf-8")).digest()


class SecondFactors:
    """Second-factor operations (docs/API.md "Second factors")."""

    def __init__(
        self,
        settings: Settings,
        pool: ConnectionPool,
        revocations: RevocationList,
        sessions: Sessions,
        throttle: LoginThrottle,
        box: SecretBox,
    ):
        self._settings = settings
        self._pool = pool
        self._revocations = revocations
        self._sessions = sessions
        self._throttle = throttle
        self._box = box

    # --- state ----------------------------------------------------------------

    def status(self, claims: AccessClaims) -> dict[str, Any]:
        """The caller's factors: TOTP on or off, recovery codes left, passkeys."""
        user_id = uuid.UUID(claims.user_id)
        with self._pool.connection() as conn:
            row = factor_store.find_totp(conn, user_id)
            left = factor_store.recovery_codes_left(conn, user_id)
            passkeys = passkey_store.count_passkeys(conn, user_id)
        return {"totp": bool(row and row.confirmed), "recovery_codes_left": left, "passkeys": passkeys}

    def methods(self, conn: Connection, user_id: uuid.UUID) -> list[str]:
        """The second factors a login of this user must pass one of (empty: none is on).

        Recovery codes belong to no factor in particular: they are offered
        whenever some factor is on and codes are left.
        """
        row = factor_store.find_totp(conn, user_id)
        methods = [TOTP] if row and row.confirmed else []
        if passkey_store.count_passkeys(conn, user_id):
            methods.append(PASSKEY)
        if methods and factor_store.recovery_codes_left(conn, user_id):
            methods.append(RECOVERY_CODE)
        return methods

    @staticmethod
    def _factor_on(conn: Connection, user_id: uuid.UUID) -> bool:
        """Whether the user has some second factor on (what recovery codes need)."""
        return factor_store.has_enabled_factor(conn, user_id)

    def factor_added(
        self, conn: Connection, user_id: uuid.UUID, session_id: str | None, method: str, had_factor: bool
    ) -> list[str] | None:
        """Under the user's row lock, once a factor was stored: what turning one on entails.

        The first factor (TOTP or a passkey, whichever comes first) turns the
        two-step password login on and ends every other session (whoever
        holds one got in with the password alone). New recovery codes come
        whenever the user has none left; they are returned to be shown this
        once (None: the user keeps the codes they have).
        """
        codes = None
        if not had_factor or not factor_store.recovery_codes_left(conn, user_id):
            codes = recovery_codes.generate()
            factor_store.replace_recovery_codes(conn, user_id, [recovery_codes.code_hash(c) for c in codes])
        if not had_factor:
            audit.record(conn, "mfa_enabled", target=user_id, session=session_id, details={"method": method})
            account_mail.mfa_changed(conn, self._settings.mail, user_id, "mfa_enabled")
            keep = uuid.UUID(session_id) if session_id else None
            end_all_sessions(conn, self._revocations, user_id, "mfa_enabled", keep=keep)
            metrics.MFA_CHANGES.labels(change="enabled").inc()
        return codes

    def factor_removed(self, conn: Connection, user_id: uuid.UUID) -> bool:
        """Under the row lock, once a factor was removed: pending second steps die; True if none is left.

        With the last factor the recovery codes go too (they belong to no
        factor in particular).
        """
        factor_store.kill_login_steps(conn, user_id)
        if factor_store.has_enabled_factor(conn, user_id):
            return False
        factor_store.delete_recovery_codes(conn, user_id)
        return True

    # --- enrolment --------------------------------------------------------------

    def setup_totp(self, claims: AccessClaims, password: str) -> dict[str, Any]:
        """A new pending TOTP secret (replacing a pending one); 409 if TOTP is on."""
        user_id = uuid.UUID(claims.user_id)
        user = self._check_password(user_id, password)
        secret = totp.new_secret()
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, user_id)
            if not factor_store.put_pending_totp(
                conn, user_id, self._box.seal(user_id, secret.encode("ascii"))
            ):
                raise errors.totp_already_on()
        uri = totp.provisioning_uri(secret, user.username)
        return {"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg(uri)}

    def confirm_totp(self, claims: AccessClaims, code: str) -> list[str]:
        """Turn TOTP on with a first code: 10 new recovery codes, every other session ended."""
        if not totp.looks_like_code(code):
            raise ValidationFailed(fields={"code": "must be the 6 digits the app shows"})
        user_id = uuid.UUID(claims.user_id)
        throttle_key = f"user:{user_id}"
        self._refuse_if_throttled(throttle_key)
        codes: list[str] | None = None
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, user_id)
            row = factor_store.find_totp(conn, user_id, lock=True)
            if row is None:
                raise errors.nothing_pending()
            if row.confirmed:
                raise errors.totp_already_on()
            secret, _ = self._box.open(user_id, row.secret_encrypted)
            step = totp.matching_step(secret.decode("ascii"), code)
            if step is not None:
                had_factor = self._factor_on(conn, user_id)  # a passkey
                factor_store.confirm_totp(conn, user_id, step)
                codes = self.factor_added(conn, user_id, claims.session_id, TOTP, had_factor)
        if step is None:
            self._failed(throttle_key, user_id, TOTP, "confirm")
            raise errors.wrong_code()
        return codes or []

    def disable_totp(self, claims: AccessClaims, password: str, code: str) -> None:
        """Turn TOTP off (password and a code); the recovery codes and pending logins die with it."""
        kind = code_kind(code)
        user_id = uuid.UUID(claims.user_id)
        self._check_password(user_id, password)
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, user_id)
            self._require_totp_on(conn, user_id)
            used = self._use_code(conn, user_id, code, kind, claims.session_id)
            if used:
                factor_store.delete_totp(conn, user_id)
                self.factor_removed(conn, user_id)
                audit.record(
                    conn, "mfa_disabled", target=user_id, session=claims.session_id, details={"method": TOTP}
                )
                account_mail.mfa_changed(conn, self._settings.mail, user_id, "mfa_disabled")
        if not used:
            self._failed(f"user:{user_id}", user_id, kind, "disable")
            raise errors.wrong_code()
        metrics.MFA_CHANGES.labels(change="disabled").inc()

    def regenerate_recovery_codes(self, claims: AccessClaims, code: str) -> list[str]:
        """Ten new recovery codes for a code (TOTP or recovery); the old ones void."""
        kind = code_kind(code)
        user_id = uuid.UUID(claims.user_id)
        throttle_key = f"user:{user_id}"
        self._refuse_if_throttled(throttle_key)
        codes = recovery_codes.generate()
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, user_id)
            if not self._factor_on(conn, user_id):
                raise errors.totp_not_on()
            used = self._use_code(conn, user_id, code, kind, claims.session_id)
            if used:
                factor_store.replace_recovery_codes(
                    conn, user_id, [recovery_codes.code_hash(c) for c in codes]
                )
                audit.record(conn, "mfa_recovery_codes_renewed", target=user_id, session=claims.session_id)
        if not used:
            self._failed(throttle_key, user_id, kind, "recovery_codes")
            raise errors.wrong_code()
        metrics.MFA_CHANGES.labels(change="recovery_codes_renewed").inc()
        return codes

    def admin_reset(self, username: str) -> None:
        """Remove every second factor of a user and end their sessions (idempotent)."""
        with self._pool.connection() as conn, conn.transaction():
            user = app_store.lock_user_by_name(conn, normalise_username(username))
            if user is None:
                raise NotFound("No such user.")
            factor_store.delete_totp(conn, user.id)
            passkey_store.delete_passkeys(conn, user.id)
            factor_store.delete_recovery_codes(conn, user.id)
            factor_store.kill_login_steps(conn, user.id)
            audit.record(conn, "mfa_reset_by_admin", target=user.id)
            account_mail.mfa_changed(conn, self._settings.mail, user.id, "mfa_reset_by_admin")
            end_all_sessions(conn, self._revocations, user.id, "mfa_reset")
            # Personal access tokens end too: whoever took over the account may have made some.
            end_access_tokens(conn, self._revocations, user.id, "mfa_reset")
            cut_off_user(conn, self._revocations, user.id)
        metrics.MFA_CHANGES.labels(change="reset_by_admin").inc()

    # --- the second login step ----------------------------------------------------

    def start_login(self, user: app_store.User, throttle_key: str) -> dict[str, Any] | None:
        """After a right password: the ``mfa_required`` answer, or None if the user has no factor on.

        Every password login asks: for a user without a factor that is one
        indexed read, no transaction of its own.
        """
        with self._pool.connection() as conn:
            methods = self.methods(conn, user.id)
            if not methods:
                return None
            token, token_hash = new_login_token()
            factor_store.insert_login_step(
                conn, token_hash, user.id, password_fingerprint(user.password_hash), throttle_key, TTL_SECONDS
            )
        metrics.MFA_LOGINS.labels(result="challenged").inc()
        return {"mfa_required": True, "mfa_token": token, "methods": methods, "expires_in": TTL_SECONDS}

    def finish_login(self, mfa_token: str, code: str, client: ClientInfo) -> dict[str, Any]:
        """A pending step and a code: the token response, as a login's; 401 for a bad token or code."""
        if not looks_like_login_token(mfa_token):
            self._count_login("invalid_token")
            raise InvalidMfaToken()
        kind = code_kind(code)
        token_hash = hash_login_token(mfa_token)
        with self._pool.connection() as conn:
            pending = factor_store.find_login_step(conn, token_hash, MAX_FAILURES)
            user = app_store.find_user_by_id(conn, pending.user_id) if pending else None
        if pending is None or user is None:
            self._count_login("invalid_token")
            raise InvalidMfaToken()
        self._refuse_if_throttled(pending.throttle_key)

        def second_factor(conn: Connection, locked: app_store.User) -> None:
            # Under the user's row lock, in the session's transaction: the
            # password it followed is still the password, the token is taken
            # once, the code once.
            if password_fingerprint(locked.password_hash) != pending.password_fingerprint:
                raise InvalidMfaToken()
            if not factor_store.use_login_step(conn, token_hash, locked.id, MAX_FAILURES):
                raise InvalidMfaToken()
            if not self._use_code(conn, locked.id, code, kind, None):
                raise _WrongCode()

        try:
            response = self._sessions.open(
                user, client, amr=AMR_PASSWORD_AND_OTP, second_factor=second_factor
            )
        except _WrongCode:
            with self._pool.connection() as conn, conn.transaction():
                factor_store.count_login_step_failure(conn, token_hash)
            self._failed(pending.throttle_key, user.id, kind, "login")
            self._count_login("invalid_code")
            raise InvalidMfaCode() from None
        except (InvalidCredentials, InvalidMfaToken):
            # Disabled, the password changed, the token taken by a racing request.
            self._count_login("invalid_token")
            raise InvalidMfaToken() from None
        self._throttle.record_success(pending.throttle_key)
        self._count_login(kind)
        account_mail.signed_in(self._pool, self._settings.mail, user.id, client.short_user_agent, client.ip)
        return response

    # --- parts ------------------------------------------------------------------

    def _use_code(
        self, conn: Connection, user_id: uuid.UUID, code: str, kind: str, session: str | None
    ) -> bool:
        """Take a code of the user (the row lock held): True once for a right, unused one."""
        if kind == RECOVERY_CODE:
            if not factor_store.use_recovery_code(conn, user_id, recovery_codes.code_hash(code)):
                return False
            left = factor_store.recovery_codes_left(conn, user_id)
            audit.record(
                conn,
                "mfa_recovery_code_used",
                actor=user_id,
                target=user_id,
                session=session,
                details={"left": left},
            )
            account_mail.mfa_changed(
                conn, self._settings.mail, user_id, "mfa_recovery_code_used", {"left": left}
            )
            return True
        row = factor_store.find_totp(conn, user_id, lock=True)
        if row is None or not row.confirmed:
            return False
        secret, current_key = self._box.open(user_id, row.secret_encrypted)
        step = totp.matching_step(secret.decode("ascii"), code)
        if step is None or not factor_store.use_totp_step(conn, user_id, step):
            return False
        if not current_key:  # MFA_KEY was rotated: store it under the first key now
            factor_store.replace_totp_secret(conn, user_id, self._box.seal(user_id, secret))
        return True

    @staticmethod
    def _require_totp_on(conn: Connection, user_id: uuid.UUID) -> None:
        row = factor_store.find_totp(conn, user_id)
        if row is None or not row.confirmed:
            raise errors.totp_not_on()

    def _check_password(self, user_id: uuid.UUID, password: str) -> app_store.User:
        """The caller's password, checked like a password change's (throttled on its own counter)."""
        throttle_key = f"user:{user_id}"
        self._refuse_if_throttled(throttle_key)
        with self._pool.connection() as conn:
            user = app_store.find_user_by_id(conn, user_id)
        if not check_password(password, user.password_hash if user else None, self._settings.bcrypt_rounds):
            self._throttle.record_failure(throttle_key)
            audit.record_alone(
                self._pool,
                "mfa_failed",
                result=audit.FAILURE,
                target=user_id,
                details={"reason": "bad_password"},
            )
            raise ValidationFailed(fields={"password": "is incorrect"})
        # check_password is False without a hash: a missing user was refused above.
        return cast(app_store.User, user)

    def _refuse_if_throttled(self, throttle_key: str) -> None:
        wait = self._throttle.retry_after(throttle_key)
        if wait:
            audit.login_locked(self._pool, throttle_key, wait)
            self._count_login("throttled")
            raise TooManyRequests(wait, "Too many failed attempts for this account; retry later.")

    def _failed(self, throttle_key: str, user_id: uuid.UUID, kind: str, operation: str) -> None:
        """A wrong code: counted on the account's throttle, audited."""
        self._throttle.record_failure(throttle_key)
        audit.record_alone(
            self._pool,
            "mfa_failed",
            result=audit.FAILURE,
            target=user_id,
            details={"method": kind, "operation": operation},
        )

    @staticmethod
    def _count_login(result: str) -> None:
        metrics.MFA_LOGINS.labels(result=result).inc()


def build_second_factors(
    settings: Settings,
    pool: ConnectionPool,
    revocations: RevocationList,
    sessions: Sessions,
    throttle: LoginThrottle,
) -> SecondFactors:
    """The worker's ``SecondFactors``, its secrets sealed with ``settings.mfa_keys``."""
    return SecondFactors(settings, pool, revocations, sessions, throttle, SecretBox(settings.mfa_keys))
