"""Accounts: signup, login, password changes, roles and disabling.

Everything that ends sessions or revokes tokens goes through
``auth_app.revoking``, which keeps Postgres and the revocation list in step.
"""

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psycopg import Connection
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from auth_app import audit, store
from auth_app.mail import account_events as account_mail
from auth_app.mail.limits import MailRequestLimits
from auth_app.passwords import check_password, hash_cost, hash_password
from auth_app.revoking import (
    cut_off_user,
    end_access_tokens,
    end_all_sessions,
    lock_user,
    rewrite_access_tokens,
)
from auth_app.sessions import ClientInfo, CredentialsChanged, Sessions
from auth_app.settings import Settings
from auth_app.signup_ghosts import SignupGhosts
from auth_app.throttle import LoginThrottle
from auth_app.validation import normalise_email, normalise_username, password_problem
from authcore import metrics
from authcore.errors import Conflict, InvalidCredentials, NotFound, TooManyRequests, ValidationFailed
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims

if TYPE_CHECKING:
    from auth_app.factors.service import SecondFactors


class Accounts:
    """Account operations of one auth_service worker."""

    def __init__(
        self,
        settings: Settings,
        pool: ConnectionPool,
        revocations: RevocationList,
        sessions: Sessions,
        throttle: LoginThrottle,
        mail_limits: MailRequestLimits | None = None,
        second_factors: "SecondFactors | None" = None,
        ghosts: SignupGhosts | None = None,
    ):
        self._settings = settings
        self._ghosts = ghosts
        self._mail_limits = mail_limits
        self._pool = pool
        self._revocations = revocations
        self._sessions = sessions
        self._throttle = throttle
        self._second_factors = second_factors

    def signup(self, username: str, email: str, password: str) -> store.User:
        """Create a user from validated fields; 409 if the name or email is taken.

        With REQUIRE_VERIFIED_EMAIL on, a taken address is not told: the
        answer is a successful one's (a user nobody will ever see), and the
        address's owner is mailed that someone tried to sign up with it.
        Only the one who reads that mailbox learns the address has an account.
        The signup is remembered (auth_app.signup_ghosts), so that what comes
        next (a login, the name signed up again) answers as for a real one.
        """
        password_hash = hash_password(password, self._settings.bcrypt_rounds)
        strict = self._settings.mail.require_verified_email
        # After the hash, as for a name taken by an account: the same work either way.
        if strict and self._ghosts is not None and self._ghosts.hash_for_name(normalise_username(username)):
            metrics.SIGNUPS.labels(result="taken").inc()
            raise Conflict("username_taken", "That username is already taken.", {"username": "is taken"})
        try:
            with self._pool.connection() as conn, conn.transaction():
                user = store.insert_user(conn, username, email, password_hash)
                audit.record(conn, "user_created", actor=user.id, target=user.id)
                account_mail.signed_up(conn, user.id)
            return user
        except pg_errors.UniqueViolation as exc:
            metrics.SIGNUPS.labels(result="taken").inc()
            taken = "email" if "email" in (exc.diag.constraint_name or "") else "username"
            # A taken name is told whatever the address: answering 201 for a
            # taken name with a taken address would tell the address is taken.
            told = strict and taken == "email" and not self._name_taken(username)
            if told and self._address_owner_told(email):
                if self._ghosts is not None:
                    self._ghosts.remember(normalise_username(username), normalise_email(email), password_hash)
                return store.User(
                    id=uuid.uuid4(),
                    username=username,
                    email=email,
                    password_hash="",
                    roles=[],
                    disabled_at=None,
                    created_at=datetime.now(UTC),
                )
            if taken == "email" and self._name_taken(username):
                taken = "username"
            raise Conflict(f"{taken}_taken", f"That {taken} is already taken.", {taken: "is taken"}) from None

    def _name_taken(self, username: str) -> bool:
        """True if an account has this name."""
        with self._pool.connection() as conn:
            found = store.find_user_by_login(conn, username=normalise_username(username), email=None)
        return found is not None

    def _address_owner_told(self, email: str) -> bool:
        """If ``email`` is an account's: audit it and queue the "someone tried" notice; False if it isn't.

        The notices to one account are limited like reset links (at most 5
        per 15 minutes); past the limit the attempt is audited but not mailed,
        and the answer stays the same.
        """
        with self._pool.connection() as conn, conn.transaction():
            owner = store.find_user_by_login(conn, username=None, email=email)
            if owner is None:
                return False
            audit.record(conn, "authn_signup_taken", result=audit.FAILURE, target=owner.id)
            try:
                if self._mail_limits is not None:
                    self._mail_limits.count(account_mail.SIGNUP_ATTEMPT, str(owner.id))
            except TooManyRequests:
                return True
            account_mail.signup_attempted(conn, owner.id)
        return True

    def login(self, login: str, password: str, client: ClientInfo) -> dict[str, Any]:
        """Check credentials and open a session; the token response of docs/API.md.

        Unknown users, wrong passwords and disabled users get the same 401
        after the same work (a lookup, one bcrypt check, one failure counted).
        """
        # A fullwidth at sign (U+FF20) is an "@" once normalised, as everywhere else.
        is_email = "@" in normalise_email(login)
        with self._pool.connection() as conn:
            user = store.find_user_by_login(
                conn,
                username=None if is_email else normalise_username(login),
                email=login if is_email else None,
            )
        # One counter per name (a username or an email), known or not, keyed
        # by the very spelling the lookup compares. A counter shared by an
        # account's username and email would tell which username owns an
        # email: fail on one, and the other answers 429 too.
        throttle_key = f"email:{normalise_email(login)}" if is_email else f"login:{normalise_username(login)}"
        self._refuse_if_throttled(throttle_key)
        ghost_hash = self._ghost_hash(login, is_email) if user is None else None
        password_ok = check_password(
            password, user.password_hash if user else ghost_hash, self._settings.bcrypt_rounds
        )
        if password_ok and user is None:
            account_mail.refuse_unverified(self._settings.mail, email_verified=False)
        if user is not None and not password_ok and is_email:
            self._refuse_if_address_ghost(login, password)
        if user is None or not password_ok or user.disabled_at is not None:
            self._throttle.record_failure(throttle_key)
            audit.login_failed(self._pool, user, password_ok)
            raise InvalidCredentials()
        account_mail.refuse_unverified(self._settings.mail, user.email_verified)
        if self._second_factors is not None:
            # The second step must find the hash it follows: bring it to the
            # current cost first. The throttle's count stays until that step passes.
            user = self._rehash_if_cost_changed(user, password)
            step = self._second_factors.start_login(user, throttle_key)
            if step is not None:
                return step
        # Opening the session reads the user again under a lock: a disable or
        # password change that landed while bcrypt ran refuses this login.
        try:
            response = self._sessions.open(user, client)
        except CredentialsChanged as changed:
            # The hash changed while bcrypt ran: a new password (this one then
            # fails) or another login's rehash (same password, new cost).
            user = changed.current
            if not check_password(password, user.password_hash, self._settings.bcrypt_rounds):
                audit.login_failed(self._pool, user, False)
                raise InvalidCredentials() from None
            response = self._sessions.open(user, client)
        self._throttle.record_success(throttle_key)
        account_mail.signed_in(self._pool, self._settings.mail, user.id, client.short_user_agent, client.ip)
        self._rehash_if_cost_changed(user, password)
        return response

    def _ghost_hash(self, login: str, is_email: bool) -> str | None:
        """The hash of a signup that made nothing under this name (REQUIRE_VERIFIED_EMAIL on), if any."""
        if is_email or self._ghosts is None or not self._settings.mail.require_verified_email:
            return None
        return self._ghosts.hash_for_name(normalise_username(login))

    def _refuse_if_address_ghost(self, email: str, password: str) -> None:
        """403 ``email_not_verified`` if ``password`` is that of a signup with this address that made nothing.

        Such a signup's address belongs to another account, whose password
        this is not: a real unverified account would have answered 403.
        """
        if self._ghosts is None or not self._settings.mail.require_verified_email:
            return
        ghost_hash = self._ghosts.hash_for_address(normalise_email(email))
        if ghost_hash and check_password(password, ghost_hash, self._settings.bcrypt_rounds):
            account_mail.refuse_unverified(self._settings.mail, email_verified=False)

    def _rehash_if_cost_changed(self, user: store.User, password: str) -> store.User:
        """After a change of BCRYPT_ROUNDS, bring a stored hash to the new cost at its next login.

        Otherwise known accounts would take measurably longer (or shorter)
        than unknown ones, whose dummy hash has the current cost. Returns
        the user with the hash now stored.
        """
        if hash_cost(user.password_hash) == self._settings.bcrypt_rounds:
            return user
        try:
            new_hash = hash_password(password, self._settings.bcrypt_rounds)
        except TooManyRequests:
            return user  # busy now: a later login rehashes
        with self._pool.connection() as conn:
            if store.replace_password_hash(conn, user.id, old=user.password_hash, new=new_hash):
                return dataclasses.replace(user, password_hash=new_hash)
        return user

    def _refuse_if_throttled(self, throttle_key: str) -> None:
        wait = self._throttle.retry_after(throttle_key)
        if wait:
            audit.login_locked(self._pool, throttle_key, wait)
            raise TooManyRequests(wait, "Too many failed attempts for this account; retry later.")

    def change_password(self, claims: AccessClaims, current: str, new: str) -> None:
        """Set a new password after checking the current one; end every other session."""
        problem = password_problem(new)
        if problem:
            raise ValidationFailed(fields={"new_password": problem})
        user_id = uuid.UUID(claims.user_id)
        # Guessing the current password with a stolen token is throttled too, on
        # a counter of its own: strangers failing logins on this account's name
        # must not lock its owner out of changing the password.
        throttle_key = f"user:{user_id}"
        self._refuse_if_throttled(throttle_key)
        # Twice at most: a rehash by a login (same password, new cost) may land
        # while bcrypt runs; the check is then made again against the new hash.
        for _ in range(2):
            with self._pool.connection() as conn:
                user = store.find_user_by_id(conn, user_id)
            if user is None or not check_password(current, user.password_hash, self._settings.bcrypt_rounds):
                self._throttle.record_failure(throttle_key)
                audit.record_alone(self._pool, "authn_password_change", result=audit.FAILURE, target=user_id)
                raise ValidationFailed(fields={"current_password": "is incorrect"})
            new_hash = hash_password(new, self._settings.bcrypt_rounds)
            with self._pool.connection() as conn, conn.transaction():
                # Under the lock: the hash checked must still be the current one.
                locked = lock_user(conn, user_id)
                if locked is not None and locked.password_hash == user.password_hash:
                    store.set_password_hash(conn, user_id, new_hash)
                    audit.record(conn, "authn_password_change", target=user_id, session=claims.session_id)
                    account_mail.password_changed(conn, self._settings.mail, user_id)
                    keep = uuid.UUID(claims.session_id)
                    end_all_sessions(conn, self._revocations, user_id, "password_changed", keep=keep)
                    return
        raise ValidationFailed(fields={"current_password": "is incorrect"})

    def grant_role(self, username: str, role: str) -> None:
        """Give a user a role (idempotent); it shows in tokens from their next refresh."""
        with self._pool.connection() as conn, conn.transaction():
            user = self._locked_user(conn, username)
            if role not in user.roles:
                store.set_roles(conn, user.id, [*user.roles, role])
                audit.record(conn, "authz_change", target=user.id, details={"role": role, "granted": True})
                # A token given this role before the user lost it carries it again.
                rewrite_access_tokens(conn, self._revocations, user.id)

    def revoke_role(self, username: str, role: str) -> None:
        """Take a role away (idempotent); tokens carrying it stop working at once."""
        with self._pool.connection() as conn, conn.transaction():
            user = self._locked_user(conn, username)
            if role in user.roles:
                store.set_roles(conn, user.id, [r for r in user.roles if r != role])
                audit.record(conn, "authz_change", target=user.id, details={"role": role, "granted": False})
                # The tokens in hand still list the role: cut them off, so the
                # next request must refresh and gets tokens without it.
                cut_off_user(conn, self._revocations, user.id)
                rewrite_access_tokens(conn, self._revocations, user.id)

    def disable(self, username: str) -> None:
        """Disable a user: every session ends, logins and refreshes are refused."""
        with self._pool.connection() as conn, conn.transaction():
            user = self._locked_user(conn, username)
            store.disable_user(conn, user.id)
            audit.record(conn, "user_disabled", target=user.id)
            end_all_sessions(conn, self._revocations, user.id, "user_disabled")
            cut_off_user(conn, self._revocations, user.id)
            end_access_tokens(conn, self._revocations, user.id, "user_disabled")

    @staticmethod
    def _locked_user(conn: Connection, username: str) -> store.User:
        user = store.lock_user_by_name(conn, normalise_username(username))
        if user is None:
            raise NotFound("No such user.")
        return user
