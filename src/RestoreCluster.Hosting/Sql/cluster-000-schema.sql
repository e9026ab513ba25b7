-- restorecluster's own record of the cluster schema: one row per applied version (cluster init).
CREATE TABLE IF NOT EXISTS restorecluster_schema
(
    version integer NOT NULL PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    description text NOT NULL
);
