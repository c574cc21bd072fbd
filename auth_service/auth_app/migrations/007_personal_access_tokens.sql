-- Personal access tokens: long-lived credentials a user names, scopes and
-- revokes. Only a SHA-256 of each token is kept. `roles` are the roles it
-- was given; it carries those the user still holds (docs/ARCHITECTURE.md).
-- A revoked token's row is deleted; an expired one stays a week (so its use
-- is recognised as late, not unknown) and is then pruned.
CREATE TABLE personal_access_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    roles        text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz
);
CREATE INDEX personal_access_tokens_by_user ON personal_access_tokens (user_id, expires_at);
CREATE INDEX personal_access_tokens_expiry ON personal_access_tokens (expires_at);
