-- Mail: an outbox written in the same transaction as the action that causes
-- a message, single-use tokens mailed to users, and verified addresses.

ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- One row per message to send. It holds what the message is about, never a
-- token: tokens are made (and stored hashed) when the message is sent, so the
-- table never holds a secret. Delivery is at least once: a row is leased
-- (next_attempt_at moved ahead) while a sender works on it, and a sender that
-- dies leaves it to be picked up again when the lease runs out.
CREATE TABLE mail_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL,          -- password_reset, email_verification, password_changed, new_device
    user_id         uuid REFERENCES users (id) ON DELETE CASCADE,
    email           text,                   -- password_reset: the address asked for (may match no user)
    details         jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending',  -- pending, sent, skipped, failed
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX mail_outbox_finished ON mail_outbox (finished_at) WHERE finished_at IS NOT NULL;

-- Single-use tokens sent by mail (password reset, email verification). Only
-- a SHA-256 of each is kept; using one deletes it.
CREATE TABLE email_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL,               -- password_reset, email_verification
    email      text NOT NULL,               -- the address the token was mailed to
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id, purpose);

-- Devices (a hash of the user agent) each user has signed in from, for the
-- "new sign-in" notice.
CREATE TABLE known_devices (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash bytea NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, device_hash)
);
