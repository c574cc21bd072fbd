-- Single sign-on: the OpenID Connect provider's clients, its authorization
-- codes, the consents users gave, and the provider's own browser sessions.
-- Secrets and codes are kept as SHA-256 hashes of 256 bits of randomness
-- (a slow hash buys nothing against a value nobody can guess).

CREATE TABLE oauth2_clients (
    client_id                    text PRIMARY KEY,
    name                         text NOT NULL,
    client_type                  text NOT NULL CHECK (client_type IN ('confidential', 'public')),
    -- Confidential clients only; shown once at registration.
    secret_hash                  bytea,
    first_party                  boolean NOT NULL DEFAULT false,
    redirect_uris                text[] NOT NULL,
    post_logout_redirect_uris    text[] NOT NULL DEFAULT '{}',
    id_token_signed_response_alg text NOT NULL DEFAULT 'RS256',
    created_at                   timestamptz NOT NULL DEFAULT now(),
    CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
);

-- One OIDC client's sessions are sessions like any other: listed, ended by
-- logout-all, disable and password change. Deleting the client ends them
-- (auth_app/oidc/clients.py), the column then keeps its name for the record.
ALTER TABLE sessions ADD COLUMN client_id text REFERENCES oauth2_clients (client_id) ON DELETE SET NULL;
-- The scopes the client's session was granted (userinfo and introspection answer by them).
ALTER TABLE sessions ADD COLUMN client_scope text;

-- The provider's own browser session (its HttpOnly, SameSite=Lax cookie):
-- bound to one of the user's sessions, so ending that session ends it.
CREATE TABLE oauth2_browser_sessions (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX oauth2_browser_sessions_by_session ON oauth2_browser_sessions (session_id);
CREATE INDEX oauth2_browser_sessions_expiry ON oauth2_browser_sessions (expires_at);

-- Authorization codes: at most 60 seconds, single use. A used code stays
-- until it expires, so a second use is recognised and ends the session the
-- first one opened (issued_session_id).
CREATE TABLE oauth2_codes (
    code_hash             bytea PRIMARY KEY,
    client_id             text NOT NULL REFERENCES oauth2_clients (client_id) ON DELETE CASCADE,
    user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The browser's session the person signed in with (auth_time and amr come from it).
    browser_session_id    uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    redirect_uri          text NOT NULL,
    scope                 text NOT NULL,
    nonce                 text,
    code_challenge        text NOT NULL,
    code_challenge_method text NOT NULL,
    auth_time             timestamptz NOT NULL,
    amr                   text[] NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    expires_at            timestamptz NOT NULL,
    used_at               timestamptz,
    -- Set by a second use: the first use's session must not open (or is ended).
    reused_at             timestamptz,
    issued_session_id     uuid REFERENCES sessions (id) ON DELETE SET NULL,
    CHECK (expires_at <= created_at + interval '60 seconds')
);
CREATE INDEX oauth2_codes_expiry ON oauth2_codes (expires_at);

-- What a user allowed a (not first-party) client: asked again for more scopes.
CREATE TABLE oauth2_consents (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES oauth2_clients (client_id) ON DELETE CASCADE,
    scopes     text[] NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_id)
);
