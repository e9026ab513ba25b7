-- restorecluster cluster schema, version 4: fleets (docs/fleet.md). A fleet is the jobs one manifest submitted:
-- its row says when and from which file, its hosts rows which budget each target server was given (and under which
-- name the manifest and `budget set HOST:PORT` know it), and each of its jobs names it, with the job's place in the
-- manifest and its priority. No password is ever in these tables.
CREATE TABLE restorecluster_fleet
(
    fleet_id text NOT NULL PRIMARY KEY,
    manifest text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE restorecluster_fleet_host
(
    fleet_id text NOT NULL REFERENCES restorecluster_fleet ON DELETE CASCADE,
    name text NOT NULL,
    host_key text NOT NULL,
    budget integer NOT NULL,
    PRIMARY KEY (fleet_id, name)
);

ALTER TABLE restorecluster_job
    ADD COLUMN fleet_id text NULL REFERENCES restorecluster_fleet ON DELETE CASCADE,
    ADD COLUMN fleet_position integer NULL,
    ADD COLUMN priority integer NOT NULL DEFAULT 0;

CREATE INDEX restorecluster_job_fleet ON restorecluster_job (fleet_id, fleet_position);
