-- Data made by an older version: every relation and function of schema
-- public still owned by a superuser passes to the schema's owner (the
-- migration role), so migrations can alter them. Nothing to do on a
-- database made today. Run by the superuser, connected to the stack's
-- database, after roles.sql: by the local runner on every start
-- (runner/pg_upgrade.py), by the postgres image on every start of an
-- existing volume (authstack-upgrade.sh). The owner comes from the setting
-- authstack.schema_owner (set_config first); each object moved is a NOTICE.
DO $give$
DECLARE
    owner text := current_setting('authstack.schema_owner');
    item record;
BEGIN
    -- Tables first: a table takes its indexes and the sequences it owns
    -- (identity, serial) with it, so those are not listed on their own.
    FOR item IN
        SELECT c.oid::regclass::text AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_roles r ON r.oid = c.relowner
         WHERE n.nspname = 'public' AND r.rolsuper AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND (c.relkind <> 'S' OR NOT EXISTS (
                SELECT FROM pg_depend d
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
         ORDER BY c.relkind NOT IN ('r', 'p'), c.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.name, owner);
        RAISE NOTICE 'moved %', item.name;
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure::text AS name
          FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_roles r ON r.oid = p.proowner
         WHERE n.nspname = 'public' AND r.rolsuper
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, owner);
        RAISE NOTICE 'moved %', item.name;
    END LOOP;
END
$give$;
