-- The stack's two login roles, and the audit trail's pruning role (no login);
-- docs/OPERATIONS.md "Who runs as whom" says why.
-- Run with psql by the superuser, connected to the stack's database: by the
-- local runner on every start, by the postgres image's init script on first
-- start. psql variables (-v): service_role, migration_role, dbname; the
-- passwords come from the environment, never from a command line.
\set ON_ERROR_STOP on
\getenv service_password POSTGRES_SERVICE_PASSWORD
\getenv migration_password POSTGRES_MIGRATION_PASSWORD

SELECT format('CREATE ROLE %I', :'migration_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'migration_role') \gexec
SELECT format('CREATE ROLE %I', :'service_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service_role') \gexec
-- Owns prune_audit_events (migration 009): the one way rows of audit_events
-- are deleted, by age. It may select and delete those rows and keep the
-- chain's anchor, and nothing else; nobody logs in as it. The migration
-- role hands the function to it, so it is a member.
SELECT 'CREATE ROLE authstack_audit_prune'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authstack_audit_prune') \gexec
ALTER ROLE authstack_audit_prune NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT authstack_audit_prune TO :"migration_role";

ALTER ROLE :"migration_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'migration_password';
ALTER ROLE :"service_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'service_password';

-- Only these two connect, and neither may make temporary tables.
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dbname" TO :"migration_role", :"service_role";

-- The migration role owns the schema: it alone creates, alters and drops.
ALTER SCHEMA public OWNER TO :"migration_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"service_role";

-- Whatever a migration creates, the service may read and write the rows of,
-- and nothing more: granted by default, so new migrations need no GRANT.
ALTER DEFAULT PRIVILEGES FOR ROLE :"migration_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"service_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migration_role" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"service_role";
-- Tables that predate these roles (an older cluster) get the same rights.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"service_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"service_role";
-- But the audit trail is append-only (INSERT and SELECT), its anchor
-- read-only, and the migrations' bookkeeping the migration role's alone
-- (migration 009 revoked these; this file runs again on every local start).
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM %I', :'service_role')
 WHERE to_regclass('public.audit_events') IS NOT NULL \gexec
SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_chain_anchor FROM %I', :'service_role')
 WHERE to_regclass('public.audit_chain_anchor') IS NOT NULL \gexec
SELECT format('REVOKE ALL ON schema_migrations FROM %I', :'service_role')
 WHERE to_regclass('public.schema_migrations') IS NOT NULL \gexec
