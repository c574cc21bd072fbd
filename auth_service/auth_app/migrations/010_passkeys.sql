-- Passkeys (WebAuthn credentials) and their single-use challenges.
-- A dump of these tables yields no usable factor: a passkey row holds the
-- credential's public key only (the private key never leaves the
-- authenticator), and a challenge is kept as its SHA-256.

-- One stable, random WebAuthn user handle per user (64 bytes, never the
-- user's id: the handle is stored on authenticators and must say nothing).
CREATE TABLE passkey_user_handles (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  bytea NOT NULL UNIQUE
);

CREATE TABLE passkeys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The authenticator's credential id (what a sign-in presents), unique
    -- across users: a second registration of one credential is refused.
    credential_id bytea NOT NULL UNIQUE,
    public_key    bytea NOT NULL,               -- COSE_Key as the authenticator sent it
    -- The authenticator's signature counter: a sign-in must show a higher
    -- one (or both zero); a lower one means a cloned authenticator.
    sign_count    bigint NOT NULL DEFAULT 0,
    name          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);
CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

-- A challenge handed out with ceremony options, found again from the
-- clientDataJSON the browser returns; taken once (DELETE ... RETURNING).
CREATE TABLE webauthn_challenges (
    challenge_hash   bytea PRIMARY KEY,
    purpose          text NOT NULL CHECK (purpose IN ('register', 'login', 'mfa')),
    -- register and mfa: whose ceremony it is; login: nobody yet.
    user_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    -- mfa: the pending second step (mfa_token hash) it belongs to.
    login_token_hash bytea,
    expires_at       timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
