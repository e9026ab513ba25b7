-- restorecluster demo: many small tables, each with a primary key, an index and a foreign key to accounts,
-- a view and one large object. Statements are separated by blank lines (SampleDatabase splits there).
CREATE TABLE accounts (
    id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    opened_at timestamptz NOT NULL
);

INSERT INTO accounts
SELECT g, 'account ' || g, timestamptz '2025-01-01 00:00:00+00' + g * interval '1 hour'
FROM generate_series(1, 1000) AS g;

DO $$
DECLARE
    t text;
BEGIN
    FOR i IN 1..{small_tables} LOOP
        t := 'ledger_' || lpad(i::text, 3, '0');
        EXECUTE format('CREATE TABLE %I (id integer PRIMARY KEY, account_id integer NOT NULL REFERENCES accounts (id), amount numeric(12,2) NOT NULL, note text)', t);
        EXECUTE format('INSERT INTO %I SELECT g, 1 + (g * %s) %% 1000, g * 1.25, ''entry '' || g FROM generate_series(1, 100) AS g', t, i);
        EXECUTE format('CREATE INDEX %I ON %I (account_id)', t || '_account', t);
    END LOOP;
END
$$;

CREATE VIEW account_balances AS
SELECT a.id, a.name, coalesce(sum(l.amount), 0) AS balance
FROM accounts AS a LEFT JOIN ledger_001 AS l ON l.account_id = a.id
GROUP BY a.id, a.name;

COMMENT ON TABLE accounts IS 'restorecluster demo: every ledger and event belongs to an account';

SELECT lo_from_bytea(0, convert_to(repeat('restorecluster demo: a large object. ', 4000), 'UTF8'));
