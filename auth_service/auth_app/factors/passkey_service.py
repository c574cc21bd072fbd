"""Passkeys of one auth_service worker: adding and removing them, signing in with one, the second step.

Every change runs in a transaction that first locks the user's row FOR
UPDATE (``auth_app.revoking.lock_user``); a sign-in opens its session through
``Sessions.open``, which locks the row FOR SHARE like a password login and
runs the passkey's use (a compare-and-set of its signature counter) under
that lock. So a disable, an admin reset or a removal that lands while a
sign-in runs is ordered against it: either the session exists first and is
ended, or the sign-in finds the account disabled or the passkey gone and
opens nothing. Challenges are taken once (one DELETE) before verifying, in
a transaction of their own: a refused answer spends its challenge too.
"""

import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import audit
from auth_app import store as app_store
from auth_app.factors import errors, passkeys
from auth_app.factors import passkey_store as store
from auth_app.factors import store as factor_store
from auth_app.factors.errors import InvalidMfaToken, InvalidPasskey
from auth_app.factors.login_tokens import MAX_FAILURES, hash_login_token, looks_like_login_token
from auth_app.factors.passkeys import CeremonyFailed, CredentialJson, RelyingParty
from auth_app.factors.service import PASSKEY, SecondFactors, password_fingerprint
from auth_app.mail import account_events as account_mail
from auth_app.revoking import lock_user
from auth_app.sessions import ClientInfo, CredentialsChanged, Sessions
from auth_app.settings import Settings
from auth_app.throttle import LoginThrottle
from authcore import metrics
from authcore.errors import InvalidCredentials, NotFound, TooManyRequests
from authcore.tokens import AccessClaims

# "Recent login": adding or removing a passkey needs a session at most this old.
RECENT_LOGIN_SECONDS = 600
# RFC 8176: a hardware-bound key; "mfa" when the authenticator verified the
# user too (a PIN or biometric: something you have and something you are/know).
AMR_PASSKEY = ("hwk",)
AMR_PASSKEY_VERIFIED = ("hwk", "mfa")
AMR_PASSWORD_AND_PASSKEY = ("hwk", "mfa", "pwd")


class _PasskeyGone(InvalidPasskey):
    """Under the lock: the passkey was removed, or a racing sign-in moved its counter first."""


class Passkeys:
    """Passkey operations (docs/API.md "Passkeys")."""

    def __init__(
        self,
        settings: Settings,
        pool: ConnectionPool,
        sessions: Sessions,
        throttle: LoginThrottle,
        factors: SecondFactors,
    ):
        self._settings = settings
        self._pool = pool
        self._sessions = sessions
        self._throttle = throttle
        self._factors = factors

    def _rp(self) -> RelyingParty:
        if self._settings.webauthn is None:
            raise errors.PasskeysUnavailable()
        return self._settings.webauthn

    @staticmethod
    def _require_recent_login(conn: Connection, claims: AccessClaims) -> None:
        """403 ``reauthentication_required`` unless the caller's session signed in within 10 minutes.

        A personal access token has no session: it never adds a way in.
        """
        if claims.session_id is None or not store.session_is_recent(
            conn, uuid.UUID(claims.session_id), uuid.UUID(claims.user_id), RECENT_LOGIN_SECONDS
        ):
            raise errors.ReauthenticationRequired()

    # --- adding, listing, removing ---------------------------------------------

    def register_options(self, claims: AccessClaims) -> dict[str, Any]:
        """Creation options for a new passkey of the caller (their passkeys excluded)."""
        rp = self._rp()
        user_id = uuid.UUID(claims.user_id)
        with self._pool.connection() as conn, conn.transaction():
            self._require_recent_login(conn, claims)
            user = app_store.find_user_by_id(conn, user_id)
            if user is None:
                raise errors.ReauthenticationRequired()
            handle = store.user_handle(conn, user_id)
            exclude = [key.credential_id for key in store.list_passkeys(conn, user_id)]
            options, challenge = passkeys.registration_options(rp, handle, user.username, exclude)
            store.insert_challenge(conn, challenge, store.REGISTER, user_id, passkeys.CHALLENGE_TTL_SECONDS)
        return options

    def register(self, claims: AccessClaims, credential: object, name: object) -> dict[str, Any]:
        """Verify and store a new passkey: ``{id, name, created_at}`` (+ ``recovery_codes`` if new)."""
        rp = self._rp()
        checked = passkeys.read_registration(credential)
        label = passkeys.read_name(name)
        user_id = uuid.UUID(claims.user_id)
        with self._pool.connection() as conn, conn.transaction():
            self._require_recent_login(conn, claims)
            taken = store.take_challenge(conn, checked.challenge, store.REGISTER)
        if taken is None or taken.user_id != user_id:
            self._failed(user_id, "register", "no_live_challenge")
            raise errors.passkey_not_accepted("answers no live challenge of yours: ask for new options")
        try:
            new = passkeys.verify_registration(rp, checked, checked.challenge)
        except CeremonyFailed as failed:
            self._failed(user_id, "register", failed.reason)
            raise errors.passkey_not_accepted("was not accepted (origin, RP ID or attestation)") from None
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, user_id)
            self._require_recent_login(conn, claims)  # the session may have ended meanwhile
            had_factor = factor_store.has_enabled_factor(conn, user_id)
            row = store.insert_passkey(
                conn, user_id, new.credential_id, new.public_key, new.sign_count, label
            )
            if row is None:
                raise errors.passkey_taken()
            audit.record(
                conn,
                "passkey_added",
                target=user_id,
                session=claims.session_id,
                details={"passkey": str(row.id)},
            )
            account_mail.mfa_changed(conn, self._settings.mail, user_id, "passkey_added", {"name": label})
            codes = self._factors.factor_added(conn, user_id, claims.session_id, PASSKEY, had_factor)
        metrics.MFA_CHANGES.labels(change="passkey_added").inc()
        body: dict[str, Any] = {"id": str(row.id), "name": row.name, "created_at": row.created_at.isoformat()}
        if codes:
            body["recovery_codes"] = codes
        return body

    def list(self, claims: AccessClaims) -> list[dict[str, Any]]:
        """The caller's passkeys, oldest first."""
        with self._pool.connection() as conn:
            rows = store.list_passkeys(conn, uuid.UUID(claims.user_id))
        return [
            {
                "id": str(row.id),
                "name": row.name,
                "created_at": row.created_at.isoformat(),
                "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            }
            for row in rows
        ]

    def remove(self, claims: AccessClaims, target: uuid.UUID) -> None:
        """Remove one of the caller's passkeys (404 for anything else); the last one turns two-step off."""
        user_id = uuid.UUID(claims.user_id)
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, user_id)
            self._require_recent_login(conn, claims)
            name = store.delete_passkey(conn, target, user_id)
            if name is None:
                raise NotFound()
            audit.record(
                conn,
                "passkey_removed",
                target=user_id,
                session=claims.session_id,
                details={"passkey": str(target)},
            )
            account_mail.mfa_changed(conn, self._settings.mail, user_id, "passkey_removed", {"name": name})
            if self._factors.factor_removed(conn, user_id):
                audit.record(
                    conn,
                    "mfa_disabled",
                    target=user_id,
                    session=claims.session_id,
                    details={"method": PASSKEY},
                )
        metrics.MFA_CHANGES.labels(change="passkey_removed").inc()

    # --- signing in without a password ------------------------------------------

    def login_options(self) -> dict[str, Any]:
        """Request options for a sign-in (no ``allowCredentials``: the browser offers its passkeys)."""
        rp = self._rp()
        options, challenge = passkeys.authentication_options(rp, None)
        with self._pool.connection() as conn, conn.transaction():
            store.insert_challenge(conn, challenge, store.LOGIN, None, passkeys.CHALLENGE_TTL_SECONDS)
        return options

    def login(self, credential: object, client: ClientInfo) -> dict[str, Any]:
        """A sign-in with a passkey alone: the token response; 401 ``invalid_credentials`` if refused.

        The account's login throttle (``login:<username>``, shared with its
        password logins) counts the failures and closes it like a password's.
        """
        rp = self._rp()
        checked = passkeys.read_authentication(credential)
        with self._pool.connection() as conn:
            with conn.transaction():
                taken = store.take_challenge(conn, checked.challenge, store.LOGIN)
            key = store.find_by_credential_id(conn, checked.credential_id)
            user = app_store.find_user_by_id(conn, key.user_id) if key else None
            handle = store.user_handle_of(conn, key.user_id) if key else None
        if key is None or user is None:
            self._failed(None, "login", "unknown_credential")
            raise InvalidPasskey()
        throttle_key = f"login:{user.username}"
        self._refuse_if_throttled(throttle_key)
        if taken is None:
            self._failed_sign_in(throttle_key, user.id, "login", "no_live_challenge")
        if user.disabled_at is not None:
            self._failed_sign_in(throttle_key, user.id, "login", "disabled")
        sent_handle = checked.json["response"].get("userHandle")
        if sent_handle is not None and (handle is None or passkeys.encode_id(handle) != sent_handle):
            self._failed_sign_in(throttle_key, user.id, "login", "user_handle")
        new_count, verified_user = self._verify(rp, checked, key, throttle_key, "login")
        amr = AMR_PASSKEY_VERIFIED if verified_user else AMR_PASSKEY
        response = self._open(user, client, amr, self._use(key, new_count, verified_user, "login"))
        self._throttle.record_success(throttle_key)
        metrics.MFA_LOGINS.labels(result="passkey_login").inc()
        account_mail.signed_in(self._pool, self._settings.mail, user.id, client.short_user_agent, client.ip)
        return response

    # --- the second step after a password ---------------------------------------

    def second_step_options(self, mfa_token: str) -> dict[str, Any]:
        """Request options for a pending second step, limited to that user's passkeys."""
        rp = self._rp()
        if not looks_like_login_token(mfa_token):
            raise InvalidMfaToken()
        token_hash = hash_login_token(mfa_token)
        with self._pool.connection() as conn, conn.transaction():
            pending = factor_store.find_login_step(conn, token_hash, MAX_FAILURES)
            if pending is None:
                raise InvalidMfaToken()
            allow = [key.credential_id for key in store.list_passkeys(conn, pending.user_id)]
            if not allow:
                raise errors.no_passkeys()
            options, challenge = passkeys.authentication_options(rp, allow)
            store.insert_challenge(
                conn, challenge, store.MFA, pending.user_id, passkeys.CHALLENGE_TTL_SECONDS, token_hash
            )
        return options

    def finish_second_step(self, mfa_token: str, credential: object, client: ClientInfo) -> dict[str, Any]:
        """A pending step and a passkey: the token response, ``amr`` ``["hwk", "mfa", "pwd"]``."""
        rp = self._rp()
        if not looks_like_login_token(mfa_token):
            metrics.MFA_LOGINS.labels(result="invalid_token").inc()
            raise InvalidMfaToken()
        checked = passkeys.read_authentication(credential)
        token_hash = hash_login_token(mfa_token)
        with self._pool.connection() as conn:
            pending = factor_store.find_login_step(conn, token_hash, MAX_FAILURES)
            user = app_store.find_user_by_id(conn, pending.user_id) if pending else None
        if pending is None or user is None:
            metrics.MFA_LOGINS.labels(result="invalid_token").inc()
            raise InvalidMfaToken()
        self._refuse_if_throttled(pending.throttle_key)
        with self._pool.connection() as conn:
            with conn.transaction():
                taken = store.take_challenge(conn, checked.challenge, store.MFA)
            key = store.find_by_credential_id(conn, checked.credential_id)
        if (
            taken is None
            or taken.login_token_hash != token_hash
            or key is None
            or key.user_id != user.id  # another user's passkey: a refusal like a wrong code
        ):
            self._count_step_failure(token_hash)
            self._failed_sign_in(pending.throttle_key, user.id, "mfa", "no_live_challenge_or_credential")
        try:
            new_count, _ = self._verify(rp, checked, key, pending.throttle_key, "mfa")
        except InvalidPasskey:
            self._count_step_failure(token_hash)
            raise
        use = self._use(key, new_count, True, "mfa")

        def second_factor(conn: Connection, locked: app_store.User) -> None:
            # Under the user's row lock: the password it followed is still
            # the password, the token is taken once, the passkey still there.
            if password_fingerprint(locked.password_hash) != pending.password_fingerprint:
                raise InvalidMfaToken()
            if not factor_store.use_login_step(conn, token_hash, locked.id, MAX_FAILURES):
                raise InvalidMfaToken()
            use(conn, locked)

        try:
            response = self._sessions.open(
                user, client, amr=AMR_PASSWORD_AND_PASSKEY, second_factor=second_factor
            )
        except _PasskeyGone:
            metrics.MFA_LOGINS.labels(result="invalid_code").inc()
            raise
        except (InvalidCredentials, InvalidMfaToken):
            # Disabled, the password changed, the token taken by a racing request.
            metrics.MFA_LOGINS.labels(result="invalid_token").inc()
            raise InvalidMfaToken() from None
        self._throttle.record_success(pending.throttle_key)
        metrics.MFA_LOGINS.labels(result=PASSKEY).inc()
        account_mail.signed_in(self._pool, self._settings.mail, user.id, client.short_user_agent, client.ip)
        return response

    # --- parts ------------------------------------------------------------------

    def _verify(
        self, rp: RelyingParty, checked: CredentialJson, key: store.Passkey, throttle_key: str, operation: str
    ) -> tuple[int, bool]:
        """The library's verdict; a refusal is counted, audited (a counter going back by name) and 401."""
        try:
            return passkeys.verify_authentication(
                rp, checked, checked.challenge, key.public_key, key.sign_count
            )
        except CeremonyFailed as failed:
            reason = "counter_went_back" if failed.counter_went_back else "verification"
            self._failed_sign_in(throttle_key, key.user_id, operation, reason, key.id)

    @staticmethod
    def _use(
        key: store.Passkey, new_count: int, verified_user: bool, operation: str
    ) -> Callable[[Connection, app_store.User], None]:
        """The session's second_factor step: the passkey's counter moves, once, under the row lock."""

        def use(conn: Connection, locked: app_store.User) -> None:
            if not store.use_passkey(conn, key.id, locked.id, key.sign_count, new_count):
                raise _PasskeyGone()
            audit.record(
                conn,
                "passkey_login",
                actor=locked.id,
                target=locked.id,
                details={"passkey": str(key.id), "user_verified": verified_user, "operation": operation},
            )

        return use

    def _open(
        self,
        user: app_store.User,
        client: ClientInfo,
        amr: tuple[str, ...],
        use: Callable[[Connection, app_store.User], None],
    ) -> dict[str, Any]:
        """``Sessions.open`` for a sign-in that proves no password (a password change is no matter)."""
        try:
            return self._sessions.open(user, client, amr=amr, second_factor=use)
        except CredentialsChanged as changed:
            return self._sessions.open(changed.current, client, amr=amr, second_factor=use)
        except _PasskeyGone:
            raise
        except InvalidCredentials:  # disabled meanwhile
            raise InvalidPasskey() from None

    def _count_step_failure(self, token_hash: bytes) -> None:
        with self._pool.connection() as conn, conn.transaction():
            factor_store.count_login_step_failure(conn, token_hash)

    def _refuse_if_throttled(self, throttle_key: str) -> None:
        wait = self._throttle.retry_after(throttle_key)
        if wait:
            audit.login_locked(self._pool, throttle_key, wait)
            raise TooManyRequests(wait, "Too many failed attempts for this account; retry later.")

    def _failed(
        self, user_id: uuid.UUID | None, operation: str, reason: str, passkey_id: uuid.UUID | None = None
    ) -> None:
        details: dict[str, Any] = {"operation": operation, "reason": reason}
        if passkey_id is not None:
            details["passkey"] = str(passkey_id)
        audit.record_alone(
            self._pool, "passkey_failed", result=audit.FAILURE, target=user_id, details=details
        )
        metrics.MFA_LOGINS.labels(result="passkey_failed").inc()

    def _failed_sign_in(
        self,
        throttle_key: str,
        user_id: uuid.UUID,
        operation: str,
        reason: str,
        passkey_id: uuid.UUID | None = None,
    ) -> NoReturn:
        """A refused sign-in of a known account: counted on its throttle, audited, 401."""
        self._throttle.record_failure(throttle_key)
        self._failed(user_id, operation, reason, passkey_id)
        raise InvalidPasskey()
