-- The exactly-once journal of restorecluster, in the target database while a restore runs.
-- A unit's journal row is written first in its transaction and commits with the unit's effects; the schema is dropped when the
-- restore ends normally, and kept only when it was killed or cancelled (for --resume). run_id names the
-- run that owns the journal (the one that created it, or the last --resume): only that run drops it.
-- run_pid, run_host and run_started_at say which process that run is and when it took the journal, for
-- the message that refuses a --resume or a forget while it still runs (every session of the owning run
-- holds the advisory job lock, RestoreJournal.JobLockKey, shared).
CREATE SCHEMA IF NOT EXISTS restorecluster_journal;
CREATE TABLE IF NOT EXISTS restorecluster_journal.job (
    job_key            text PRIMARY KEY,
    archive_fingerprint text NOT NULL,
    options_fingerprint text NOT NULL,
    archive_path       text NOT NULL,
    run_id             text NOT NULL,
    started_at         timestamptz NOT NULL DEFAULT now(),
    run_pid            integer,
    run_host           text,
    run_started_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS restorecluster_journal.unit (
    job_key  text NOT NULL,
    unit_id  integer NOT NULL,
    done_at  timestamptz NOT NULL DEFAULT now(),
    errors   integer NOT NULL DEFAULT 0,
    messages text[],
    created  integer[],
    inhibited integer[],
    PRIMARY KEY (job_key, unit_id)
);
-- Unlogged, so crash recovery empties it (a clean shutdown keeps it): a row here says the server has not crashed
-- since the run took the journal. Units commit with synchronous_commit = off, so a crash (or an immediate
-- shutdown) may lose commits the run was told of; a session that joins the job and finds the row gone stops the
-- run, and --resume (which writes the row again) redoes what the journal no longer holds. docs/restore.md.
CREATE UNLOGGED TABLE IF NOT EXISTS restorecluster_journal.alive (
    job_key text PRIMARY KEY
);
-- No grants: the journal is written only as the login role, which owns it (units that run as the archive's
-- owners or as --role switch back to it inside their transaction to write their rows).
