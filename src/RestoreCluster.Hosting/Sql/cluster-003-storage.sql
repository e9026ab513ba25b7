-- restorecluster cluster schema, version 3: grain state for Orleans' AdoNet persistence provider
-- (Microsoft.Orleans.Persistence.AdoNet 10.4.2) as the silos' "restore" storage: the job coordinators' state and
-- the host budgets (docs/cluster.md, "What is persisted"). Written for PostgreSQL from the provider's contract:
-- it reads the query texts WriteToStorageKey, ReadFromStorageKey and ClearStorageKey from OrleansQuery, binds
-- @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash (integers and bigints), @GrainTypeString (the state's name),
-- @GrainIdExtensionString (a string key, or null), @ServiceId, @GrainStateVersion (the ETag it holds, null for none)
-- and @PayloadBinary; it reads PayloadBinary and Version of the row it asked for (no row: no state), and the new
-- version a write or clear made (NewGrainStateVersion; the first column of a clear). A write or clear that
-- changes nothing (another writer's version is there) must return no version: the provider then reports a conflict.

CREATE TABLE OrleansStorage
(
    GrainIdHash integer NOT NULL,
    GrainIdN0 bigint NOT NULL,
    GrainIdN1 bigint NOT NULL,
    GrainTypeHash integer NOT NULL,
    GrainTypeString varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId varchar(150) NOT NULL,
    PayloadBinary bytea NULL,
    ModifiedOn timestamptz NOT NULL DEFAULT now(),
    Version integer NULL
);

-- One row per grain and state: a first write that races another inserts nothing (and so reports a conflict).
CREATE UNIQUE INDEX OrleansStorage_Grain ON OrleansStorage
    (GrainIdHash, GrainTypeHash, ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, coalesce(GrainIdExtensionString, ''));

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', '
    SELECT PayloadBinary, Version
    FROM OrleansStorage
    WHERE GrainIdHash = CAST(@GrainIdHash AS integer) AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
      AND ServiceId = CAST(@ServiceId AS text) AND GrainTypeString = CAST(@GrainTypeString AS text)
      AND GrainIdN0 = CAST(@GrainIdN0 AS bigint) AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
      AND coalesce(GrainIdExtensionString, '''') = coalesce(CAST(@GrainIdExtensionString AS text), '''')'),
-- With a version: the row at that version, bumped. Without one: a new row at version 1, unless one is there.
('WriteToStorageKey', '
    WITH updated AS (
        UPDATE OrleansStorage
        SET PayloadBinary = CAST(@PayloadBinary AS bytea), ModifiedOn = now(), Version = Version + 1
        WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL AND Version = CAST(@GrainStateVersion AS integer)
          AND GrainIdHash = CAST(@GrainIdHash AS integer) AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
          AND ServiceId = CAST(@ServiceId AS text) AND GrainTypeString = CAST(@GrainTypeString AS text)
          AND GrainIdN0 = CAST(@GrainIdN0 AS bigint) AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
          AND coalesce(GrainIdExtensionString, '''') = coalesce(CAST(@GrainIdExtensionString AS text), '''')
        RETURNING Version),
    inserted AS (
        INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
                                    GrainIdExtensionString, ServiceId, PayloadBinary, Version)
        SELECT CAST(@GrainIdHash AS integer), CAST(@GrainIdN0 AS bigint), CAST(@GrainIdN1 AS bigint),
               CAST(@GrainTypeHash AS integer), CAST(@GrainTypeString AS text), CAST(@GrainIdExtensionString AS text),
               CAST(@ServiceId AS text), CAST(@PayloadBinary AS bytea), 1
        WHERE CAST(@GrainStateVersion AS integer) IS NULL
        ON CONFLICT DO NOTHING
        RETURNING Version)
    SELECT (SELECT Version FROM updated UNION ALL SELECT Version FROM inserted LIMIT 1) AS NewGrainStateVersion'),
-- The row at the given version loses its payload and is bumped (the provider keeps the version going).
('ClearStorageKey', '
    WITH cleared AS (
        UPDATE OrleansStorage
        SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
        WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL AND Version = CAST(@GrainStateVersion AS integer)
          AND GrainIdHash = CAST(@GrainIdHash AS integer) AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
          AND ServiceId = CAST(@ServiceId AS text) AND GrainTypeString = CAST(@GrainTypeString AS text)
          AND GrainIdN0 = CAST(@GrainIdN0 AS bigint) AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
          AND coalesce(GrainIdExtensionString, '''') = coalesce(CAST(@GrainIdExtensionString AS text), '''')
        RETURNING Version)
    SELECT (SELECT Version FROM cleared) AS NewGrainStateVersion');
