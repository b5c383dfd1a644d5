-- Run once per cluster by a superuser, before the migrations (tools/up and
-- the admin CLI's "bootstrap" do it).  One role per program; the owner
-- holds the schema, the others get grants on their own tables only
-- (see the GRANT lines at the end of each migration).
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['madoguchi_owner', 'madoguchi_ingest', 'madoguchi_ticketd',
                           'madoguchi_escalation', 'madoguchi_fax', 'madoguchi_ocr'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
  END LOOP;
END $$;
