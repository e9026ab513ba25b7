-- restorecluster cluster schema, version 2: the cluster's submitted jobs, for status, wait, cancel and the silos
-- that start while jobs run (JobRegistry). A job's progress is its coordinator's; this row only names it. The
-- target is its display form (host:port/database as user): never a password.
CREATE TABLE restorecluster_job
(
    job_id text NOT NULL PRIMARY KEY,
    archive text NOT NULL,
    target text NOT NULL,
    host_key text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now()
);
