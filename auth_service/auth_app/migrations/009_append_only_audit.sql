-- An append-only audit trail. The service role may INSERT and SELECT
-- audit_events, nothing else, and nothing at all on schema_migrations.
-- Every row carries a hash chained to the one before it: seq numbers the
-- chain, prev_hash is the previous row's row_hash (or the anchor's), and
-- row_hash = sha256(prev_hash || audit_event_canonical(row)). A changed,
-- removed or inserted row breaks the chain where it happened
-- (python -m auth_app.audit.verify, GET /auth/audit/verify).

-- Whoever was granted more than this (the service role, by the default
-- privileges of roles.sql) loses it; found by name, so no role name is
-- written here.
DO $$
DECLARE grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
         WHERE g.table_schema = 'public' AND g.table_name = 'audit_events'
           AND g.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND g.grantee <> current_user
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM %I', grantee);
    END LOOP;
    FOR grantee IN
        SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
         WHERE g.table_schema = 'public' AND g.table_name = 'schema_migrations' AND g.grantee <> current_user
    LOOP
        EXECUTE format('REVOKE ALL ON schema_migrations FROM %I', grantee);
    END LOOP;
END $$;

-- Where the chain goes on after pruning: the last row deleted. One row at most.
CREATE TABLE audit_chain_anchor (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq       bigint NOT NULL,
    row_hash  bytea NOT NULL,
    pruned_at timestamptz NOT NULL DEFAULT now()
);
DO $$
DECLARE grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
         WHERE g.table_schema = 'public' AND g.table_name = 'audit_chain_anchor'
           AND g.privilege_type <> 'SELECT' AND g.grantee <> current_user
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_chain_anchor FROM %I', grantee);
    END LOOP;
END $$;

ALTER TABLE audit_events ADD COLUMN seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN row_hash bytea;

-- The bytes a row's hash covers: every column but the hashes, as one JSON
-- array (jsonb's text form is deterministic), the time in UTC to the microsecond.
CREATE FUNCTION audit_event_canonical(e audit_events) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT jsonb_build_array(
        e.seq, e.id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.action, e.result, e.actor_id, e.target_id, e.session_id,
        e.client_ip, e.user_agent, e.request_id, e.details
    )::text
$$;

CREATE FUNCTION audit_event_hash(prev bytea, e audit_events) RETURNS bytea
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT sha256(prev || convert_to(audit_event_canonical(e), 'UTF8'))
$$;

-- Rows that predate the chain join it in id order.
DO $$
DECLARE
    e audit_events;
    n bigint := 0;
    prev bytea := decode(repeat('00', 32), 'hex');
BEGIN
    FOR e IN SELECT * FROM audit_events ORDER BY id LOOP
        n := n + 1;
        e.seq := n;
        e.prev_hash := prev;
        e.row_hash := audit_event_hash(prev, e);
        UPDATE audit_events SET seq = e.seq, prev_hash = e.prev_hash, row_hash = e.row_hash WHERE id = e.id;
        prev := e.row_hash;
    END LOOP;
END $$;
ALTER TABLE audit_events ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash SET NOT NULL;
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);

-- Each insert links to the newest row under a transaction-scoped advisory
-- lock, held until commit: the next insert waits, then reads this row
-- committed, so the chain has no fork and seq no gap. Whatever the client
-- sent for seq, the hashes and the time is overwritten: an event is dated
-- by the database (a back-dated one could make pruning take the whole trail).
CREATE FUNCTION audit_events_chain() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(7245009);
    SELECT seq, row_hash INTO last_seq, last_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        SELECT seq, row_hash INTO last_seq, last_hash FROM audit_chain_anchor;
    END IF;
    NEW.occurred_at := now();
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, decode(repeat('00', 32), 'hex'));
    NEW.row_hash := audit_event_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

-- Retention: the only way the service deletes events. Deletes the oldest
-- rows (a prefix of the chain: every seq up to the newest one older than
-- keep_days), records the last one deleted as the anchor, never less than
-- a day's worth kept. SECURITY DEFINER: it runs as its owner, which is
-- authstack_audit_prune when roles.sql made it (a role that may select and
-- delete events and write the anchor, nothing else), else this role.
CREATE FUNCTION prune_audit_events(keep_days integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    upto bigint;
    last_hash bytea;
    deleted bigint;
BEGIN
    IF keep_days IS NULL OR keep_days < 1 THEN
        RAISE EXCEPTION 'keep_days must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(7245009);
    SELECT max(seq) INTO upto FROM audit_events WHERE occurred_at < now() - make_interval(days => keep_days);
    IF upto IS NULL THEN
        RETURN 0;
    END IF;
    SELECT row_hash INTO last_hash FROM audit_events WHERE seq = upto;
    DELETE FROM audit_events WHERE seq <= upto;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    INSERT INTO audit_chain_anchor (seq, row_hash) VALUES (upto, last_hash)
        ON CONFLICT (only_row) DO UPDATE SET seq = excluded.seq, row_hash = excluded.row_hash, pruned_at = now();
    RETURN deleted;
END $$;
REVOKE ALL ON FUNCTION prune_audit_events(integer) FROM PUBLIC;

DO $$
DECLARE grantee text;
BEGIN
    -- The service role(s): whoever may insert events may call the pruning.
    FOR grantee IN
        SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
         WHERE g.table_schema = 'public' AND g.table_name = 'audit_events'
           AND g.privilege_type = 'INSERT' AND g.grantee <> current_user
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION prune_audit_events(integer) TO %I', grantee);
    END LOOP;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'authstack_audit_prune')
       AND pg_has_role(current_user, 'authstack_audit_prune', 'MEMBER') THEN
        GRANT USAGE ON SCHEMA public TO authstack_audit_prune;
        GRANT SELECT (seq, occurred_at, row_hash), DELETE ON audit_events TO authstack_audit_prune;
        GRANT SELECT, INSERT, UPDATE ON audit_chain_anchor TO authstack_audit_prune;
        -- A new owner needs CREATE on the schema at that moment only.
        GRANT CREATE ON SCHEMA public TO authstack_audit_prune;
        ALTER FUNCTION prune_audit_events(integer) OWNER TO authstack_audit_prune;
        REVOKE CREATE ON SCHEMA public FROM authstack_audit_prune;
    ELSE
        RAISE WARNING 'role authstack_audit_prune is missing (stores/postgres/roles.sql makes it):'
            ' prune_audit_events runs as the schema owner';
    END IF;
END $$;
