-- restorecluster demo: run once both parts exist (the big table's foreign key needs accounts).
ALTER TABLE events ADD CONSTRAINT events_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);

ANALYZE;
