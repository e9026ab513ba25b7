-- latin1.sql : a LATIN1 database whose text holds bytes 0xA0-0xFF. This file is UTF-8; the server
-- converts from client_encoding UTF8 to the database encoding LATIN1 on the way in.
SET client_encoding = 'UTF8';

CREATE SCHEMA "schéma";
CREATE TABLE "schéma"."tâble" (id integer PRIMARY KEY, "välue" text, note varchar(40));
INSERT INTO "schéma"."tâble" VALUES
  (1, 'café crème brûlée', 'accents'),
  (2, 'Größe, Straße, naïve, façade', 'german/french'),
  (3, '¡¿ © ® ° ± µ ¶ · ½ ¾ ×÷ ÿ', 'symbols'),
  (4, E'tab\tand\nnewline ñ', 'escapes'),
  (5, NULL, 'null'),
  (6, '', 'empty');
-- every LATIN1 character from 0xA0 to 0xFF in one value
INSERT INTO "schéma"."tâble"
  SELECT 7, string_agg(chr(i), '' ORDER BY i), 'all high latin1' FROM generate_series(160, 255) AS i;
COMMENT ON TABLE "schéma"."tâble" IS 'commentaire accentué: é à ü';

CREATE VIEW "schéma"."vüe" AS SELECT id, upper("välue") AS "välue" FROM "schéma"."tâble";
CREATE SEQUENCE "schéma"."séquence" START 5;
SELECT lo_from_bytea(920001, convert_to('objet élevé', 'LATIN1'));
