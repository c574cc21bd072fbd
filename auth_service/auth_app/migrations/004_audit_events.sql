-- The audit trail: one row per security event, written in the same
-- transaction as the action it records. Never a token, password or secret.
-- No foreign keys: the trail outlives the users and sessions it names.

CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,                 -- OWASP logging vocabulary, e.g. authn_login_success
    result      text NOT NULL,                 -- success | failure
    actor_id    uuid,                          -- who acted (null: not authenticated)
    target_id   uuid,                          -- whose account it concerns
    session_id  uuid,
    client_ip   text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    request_id  text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}'
);
-- GET /auth/audit pages newest first by id, filtered by user or type;
-- housekeeping deletes by age.
CREATE INDEX audit_events_by_target ON audit_events (target_id, id);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_by_action ON audit_events (action, id);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
