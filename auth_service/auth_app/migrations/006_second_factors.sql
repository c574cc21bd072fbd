-- Second factors: TOTP, recovery codes, the pending second login step, and
-- how each session was signed in (its amr, RFC 8176).
-- A dump of these tables yields no usable factor: the TOTP secret is
-- AES-GCM-encrypted with MFA_KEY (which never sits in the database), the
-- recovery codes and the login-step tokens are SHA-256 hashes of 78 bits
-- or more of randomness.

CREATE TABLE mfa_totp (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_encrypted bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    confirmed_at     timestamptz,               -- null: set up, waiting for a first code
    -- The last 30-second step whose code was accepted: a code is taken
    -- once, and never one of an earlier step (a conditional UPDATE).
    last_used_step   bigint NOT NULL DEFAULT 0
);

CREATE TABLE mfa_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,                     -- single use: UPDATE ... WHERE used_at IS NULL
    PRIMARY KEY (user_id, code_hash)
);

-- A password login waiting for its second factor (the opaque mfa_token).
CREATE TABLE mfa_login_tokens (
    token_hash           bytea PRIMARY KEY,
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the password hash that was checked: a password change in
    -- between makes the token useless.
    password_fingerprint bytea NOT NULL,
    -- The per-account throttle counter the first step used (login:<name> or email:<address>).
    throttle_key         text NOT NULL,
    failures             integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL,
    used_at              timestamptz
);
CREATE INDEX mfa_login_tokens_user ON mfa_login_tokens (user_id);
CREATE INDEX mfa_login_tokens_expires_at ON mfa_login_tokens (expires_at);

-- How the session was signed in; a refresh keeps it. Sessions from before were passwords.
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}';
