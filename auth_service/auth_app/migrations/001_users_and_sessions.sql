-- Users, their sessions, and the refresh tokens each session has been given.

CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username           text NOT NULL UNIQUE,          -- stored normalised (NFKC + casefold)
    email              text NOT NULL,
    password_hash      text NOT NULL,
    roles              text[] NOT NULL DEFAULT '{}',
    disabled_at        timestamptz,
    -- Access tokens issued before this instant are revoked (logout-all,
    -- role removal, disabling): the source of truth for the Redis cutoff.
    tokens_valid_after timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,               -- when its latest refresh token expires
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    ended_at     timestamptz,
    end_reason   text
);
CREATE INDEX sessions_active_by_user ON sessions (user_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE ended_at IS NOT NULL;

-- Only a SHA-256 of each refresh token is kept. Used ones stay until they
-- expire, so presenting one again is recognised as reuse.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
