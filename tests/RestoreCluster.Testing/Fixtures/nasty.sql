-- nasty.sql : object kinds and data that break naive archive readers and SQL writers.
-- UTF8 database; run with psql -v ON_ERROR_STOP=1 as a superuser after roles.sql.
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

-- roles, also created here (idempotently) so the file stands alone
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fixture_owner') THEN
    CREATE ROLE fixture_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fixture_reader') THEN
    CREATE ROLE fixture_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'Fixture "Quoted" Role') THEN
    CREATE ROLE "Fixture ""Quoted"" Role" NOLOGIN;
  END IF;
END $$;

-- ---------------------------------------------------------------- schemas with awkward names
CREATE SCHEMA nasty AUTHORIZATION fixture_owner;
CREATE SCHEMA "MiXeD Schema";
CREATE SCHEMA "schéma ünïcode ✓";
COMMENT ON SCHEMA nasty IS E'comment with ''quotes'', a tab\there and a newline\nhere';

-- ---------------------------------------------------------------- types
CREATE TYPE nasty.mood AS ENUM ('sad', 'ok', 'happy', 'it''s complicated', 'ünïcode 😀');
CREATE DOMAIN nasty.short_text AS varchar(20) CHECK (VALUE <> '');
CREATE DOMAIN "MiXeD Schema"."Even Number" AS integer CHECK (VALUE % 2 = 0);
COMMENT ON TYPE nasty.mood IS 'how it feels';

-- ---------------------------------------------------------------- identifiers
CREATE TABLE nasty."table with spaces" (
  "column with spaces" integer PRIMARY KEY,
  "Quote""Column" text,
  "semi;colon" text,
  "ünïcode_列" text,
  "emoji 😀" text
);
CREATE TABLE nasty."line
break" ("new
line" text, "tab	col" text);
CREATE TABLE nasty."it's ""quoted""" (id integer, "back\slash" text);
CREATE TABLE "MiXeD Schema"."MiXeD Table" ("Id" integer PRIMARY KEY, "Even" "MiXeD Schema"."Even Number");
CREATE TABLE "schéma ünïcode ✓"."tâble ✓" (id integer PRIMARY KEY, "välue" text);
COMMENT ON TABLE nasty."table with spaces" IS 'a table; with a semicolon';
COMMENT ON COLUMN nasty."table with spaces"."Quote""Column" IS E'column comment with a newline\nand ''quotes''';

INSERT INTO nasty."table with spaces" VALUES
  (1, 'a"b', 'x;y', '漢字', '😀🎉'),
  (2, NULL, '', '', NULL);
INSERT INTO nasty."line
break" VALUES (E'line1\nline2', E'a\tb');
INSERT INTO nasty."it's ""quoted""" VALUES (1, E'C:\\path\\to'), (2, '\N');
INSERT INTO "MiXeD Schema"."MiXeD Table" VALUES (1, 2), (2, NULL);
INSERT INTO "schéma ünïcode ✓"."tâble ✓" VALUES (1, 'ça marche ✓');

-- ---------------------------------------------------------------- text that looks like COPY syntax
CREATE TABLE nasty.texts (id integer PRIMARY KEY, t text, note text);
INSERT INTO nasty.texts VALUES
  (1, '', 'empty string'),
  (2, NULL, 'null'),
  (3, E'\\N', 'backslash-N, looks like COPY null'),
  (4, '\N', 'the two characters backslash N'),
  (5, E'tab\there', 'tab'),
  (6, E'new\nline', 'newline'),
  (7, E'carriage\rreturn', 'carriage return'),
  (8, E'back\\slash', 'backslash'),
  (9, E'\\.', 'end-of-copy marker lookalike'),
  (10, E'line\n\\.\nafter', 'end-of-copy marker on its own line'),
  (11, E'trailing backslash\\', 'trailing backslash'),
  (12, 'NULL', 'the word NULL'),
  (13, 'Grüße, Καλημέρα, こんにちは, 👍🏽, 𝕏', 'multi-byte UTF-8 incl. 4-byte and combining'),
  (14, E'\x01\x02\x7f control', 'control characters'),
  (15, '   ', 'spaces only'),
  (16, E'''single'' "double" `back`', 'quotes');

-- ---------------------------------------------------------------- binary and structured values
CREATE TABLE nasty.binary_data (id integer PRIMARY KEY, b bytea);
INSERT INTO nasty.binary_data
  SELECT 1, decode(string_agg(lpad(to_hex(i), 2, '0'), '' ORDER BY i), 'hex') FROM generate_series(0, 255) AS i;
INSERT INTO nasty.binary_data VALUES (2, ''), (3, NULL), (4, '\x5c4e'), (5, '\x00');

CREATE TABLE nasty.structured (
  id integer PRIMARY KEY,
  ints integer[],
  texts text[],
  matrix integer[][],
  j json,
  jb jsonb,
  m nasty.mood,
  moods nasty.mood[]
);
INSERT INTO nasty.structured VALUES
  (1, '{1,2,NULL,4}', ARRAY['a', 'b c', 'd"e', 'f\g', NULL, '', 'NULL'], '{{1,2},{3,4}}',
   '{"k": "v", "nested": {"a": [1, 2, "tab\there"]}, "dup": 1, "dup": 2}',
   '{"k": "v", "uni": "ünï 😀", "esc": "line\nbreak", "num": 1.50}', 'it''s complicated', '{sad,happy}'),
  (2, '{}', '{}', NULL, 'null', '[]', NULL, NULL),
  (3, NULL, NULL, NULL, NULL, NULL, 'ünïcode 😀', ARRAY['ünïcode 😀'::nasty.mood]);

-- ---------------------------------------------------------------- sizes: large values, zero rows, many rows
CREATE TABLE nasty.large_text (id integer PRIMARY KEY, t text);
INSERT INTO nasty.large_text SELECT 1, repeat(E'0123456789abcdef\tline\\ \n', 43691);  -- ~1 MB
INSERT INTO nasty.large_text SELECT 2, repeat('ü', 300000);                             -- 600 kB of 2-byte chars

CREATE TABLE nasty.empty_table (id integer PRIMARY KEY, t text);

CREATE TABLE nasty.many_rows (id integer PRIMARY KEY, t text, n numeric, ts timestamptz);
INSERT INTO nasty.many_rows
  SELECT i, 'row ' || i || CASE WHEN i % 7 = 0 THEN E'\twith tab' ELSE '' END,
         i * 1.5, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
  FROM generate_series(1, 50000) AS i;

-- ---------------------------------------------------------------- sequences
CREATE SEQUENCE nasty."Seq ""one""" START 42 INCREMENT 7;
SELECT nextval('nasty."Seq ""one"""'), nextval('nasty."Seq ""one"""');
CREATE SEQUENCE nasty.unused_seq;
CREATE TABLE nasty.with_serial (id bigserial PRIMARY KEY, v text);
INSERT INTO nasty.with_serial (v) VALUES ('a'), ('b');

-- ---------------------------------------------------------------- functions and triggers
CREATE FUNCTION nasty."semi;colon func"(a integer, b text DEFAULT ';') RETURNS text
  LANGUAGE plpgsql
  AS $body$
DECLARE
  s text := 'a;b;c';   -- semicolons; everywhere;
BEGIN
  s := s || ';' || b || $$;$$ || a::text;
  RETURN s; -- done;
END;
$body$;

CREATE FUNCTION nasty.touch() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW.v := coalesce(NEW.v, '') || ';touched';
  RETURN NEW;
END;
$$;
CREATE TRIGGER "touch; trigger" BEFORE INSERT ON nasty.with_serial
  FOR EACH ROW EXECUTE FUNCTION nasty.touch();
CREATE TRIGGER disabled_trigger BEFORE UPDATE ON nasty.with_serial
  FOR EACH ROW EXECUTE FUNCTION nasty.touch();
ALTER TABLE nasty.with_serial DISABLE TRIGGER disabled_trigger;
COMMENT ON FUNCTION nasty."semi;colon func"(integer, text) IS 'semicolons; in; the; body';

-- ---------------------------------------------------------------- views and materialized views
CREATE VIEW nasty."view with spaces" AS
  SELECT id, t AS "text; value" FROM nasty.texts WHERE t IS NOT NULL;
CREATE MATERIALIZED VIEW nasty.populated_mv AS
  SELECT id % 10 AS bucket, count(*) AS n FROM nasty.many_rows GROUP BY 1;
CREATE MATERIALIZED VIEW nasty.unpopulated_mv AS SELECT id FROM nasty.texts WITH NO DATA;

-- ---------------------------------------------------------------- partitioning and inheritance
CREATE TABLE nasty.measurements (id integer, region text NOT NULL, v numeric) PARTITION BY LIST (region);
CREATE TABLE nasty."measurements eu" PARTITION OF nasty.measurements FOR VALUES IN ('eu');
CREATE TABLE nasty.measurements_us PARTITION OF nasty.measurements FOR VALUES IN ('us')
  PARTITION BY RANGE (id);
CREATE TABLE nasty.measurements_us_low PARTITION OF nasty.measurements_us FOR VALUES FROM (MINVALUE) TO (1000);
CREATE TABLE nasty.measurements_us_high PARTITION OF nasty.measurements_us FOR VALUES FROM (1000) TO (MAXVALUE);
INSERT INTO nasty.measurements SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END, i FROM generate_series(1, 2000) AS i;

CREATE TABLE nasty.parent (id integer, name text);
CREATE TABLE nasty.child_a (a text) INHERITS (nasty.parent);
CREATE TABLE nasty.child_b (b integer) INHERITS (nasty.parent);
INSERT INTO nasty.parent VALUES (1, 'p');
INSERT INTO nasty.child_a VALUES (2, 'a', 'x');
INSERT INTO nasty.child_b VALUES (3, 'b', 3);

-- ---------------------------------------------------------------- large objects
SELECT lo_from_bytea(910001, '');                                              -- empty
SELECT lo_from_bytea(910002, convert_to('small ✓ large object', 'UTF8'));
SELECT lo_from_bytea(910003, (                                                 -- 200 000 bytes, all values
  SELECT decode(string_agg(lpad(to_hex((i * 37 + i / 256) % 256), 2, '0'), '' ORDER BY i), 'hex')
  FROM generate_series(0, 199999) AS i));
SELECT lo_from_bytea(910004, decode(repeat('00ff', 40000), 'hex'));            -- 80 000 bytes
COMMENT ON LARGE OBJECT 910002 IS 'small one';
ALTER LARGE OBJECT 910003 OWNER TO fixture_owner;
GRANT SELECT ON LARGE OBJECT 910003 TO fixture_reader;

-- ---------------------------------------------------------------- ownership, grants, comments
ALTER TABLE nasty.texts OWNER TO fixture_owner;
ALTER TABLE nasty."table with spaces" OWNER TO "Fixture ""Quoted"" Role";
GRANT USAGE ON SCHEMA nasty TO fixture_reader, "Fixture ""Quoted"" Role";
GRANT SELECT ON ALL TABLES IN SCHEMA nasty TO fixture_reader;
GRANT SELECT, INSERT ON nasty."line
break" TO "Fixture ""Quoted"" Role";
GRANT UPDATE (t) ON nasty.texts TO fixture_reader;
GRANT EXECUTE ON FUNCTION nasty."semi;colon func"(integer, text) TO fixture_reader;
REVOKE ALL ON FUNCTION nasty.touch() FROM PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE nasty."Seq ""one""" TO fixture_reader;
COMMENT ON VIEW nasty."view with spaces" IS 'view comment';
COMMENT ON MATERIALIZED VIEW nasty.unpopulated_mv IS 'never refreshed';
