-- restorecluster demo: the one big table. Statements are separated by blank lines (SampleDatabase splits
-- there); created and filled in one transaction so that with wal_level=minimal the rows skip the WAL.
BEGIN;

CREATE TABLE events (
    id bigint NOT NULL,
    account_id integer NOT NULL,
    happened_at timestamptz NOT NULL,
    kind text NOT NULL,
    payload text NOT NULL
);

INSERT INTO events
SELECT g, 1 + g % 1000, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
       (ARRAY['view', 'click', 'buy', 'share'])[1 + g % 4], md5(g::text) || md5((-g)::text)
FROM generate_series(1, {rows}) AS g;

COMMIT;

ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);

CREATE INDEX events_account_happened ON events (account_id, happened_at);
