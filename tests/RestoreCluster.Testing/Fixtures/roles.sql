-- roles.sql : every role that the fixture databases reference (roles are cluster-global and pg_dump
-- does not dump them). Run on the source server before the fixtures, and on any restore target.
-- Idempotent.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['app_owner', 'app_reader', 'fixture_owner', 'fixture_reader', 'Fixture "Quoted" Role']
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END $$;
