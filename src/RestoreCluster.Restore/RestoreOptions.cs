using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

/// <summary>pg_restore's options that shape what is sent (RestoreOptions in pg_backup.h), beside the selection.</summary>
public sealed record RestoreOptions
{
    public SelectionOptions Selection { get; init; } = SelectionOptions.Default;

    /// <summary><c>-c</c>.</summary>
    public bool Clean { get; init; }

    public bool IfExists { get; init; }

    /// <summary><c>-1</c>.</summary>
    public bool SingleTransaction { get; init; }

    /// <summary><c>-O</c>.</summary>
    public bool NoOwner { get; init; }

    public bool UseSetSessionAuthorization { get; init; }

    public bool NoTablespaces { get; init; }

    public bool NoTableAccessMethod { get; init; }

    /// <summary><c>--role</c>.</summary>
    public string? Role { get; init; }

    /// <summary><c>-S</c>.</summary>
    public string? Superuser { get; init; }

    public bool DisableTriggers { get; init; }

    public bool EnableRowSecurity { get; init; }

    public bool NoDataForFailedTables { get; init; }

    /// <summary>
    /// <c>--transaction-size=N</c> (pg_restore 17+): the serial parts of a restore commit after every N objects
    /// (0: not given). It implies <see cref="ExitOnError"/>.
    /// </summary>
    public int TransactionSize { get; init; }

    /// <summary><c>-e</c> (also implied by <c>-1</c> and <c>--transaction-size</c>).</summary>
    public bool ExitOnError { get; init; }

    public bool Verbose { get; init; }

    /// <summary>
    /// <c>--no-async-commit</c>: units commit with the server's synchronous_commit instead of <c>off</c>
    /// (docs/restore.md, "Session settings of units"). How the restore runs, not what it restores: not fingerprinted.
    /// </summary>
    public bool NoAsyncCommit { get; init; }

    /// <summary>
    /// <c>--no-copy-freeze</c>: no <c>COPY ... WITH (FREEZE)</c> where a unit truncated the table in its own
    /// transaction (docs/restore.md). How the restore runs, not what it restores: not fingerprinted.
    /// </summary>
    public bool NoCopyFreeze { get; init; }

    /// <summary>
    /// <c>--analyze</c>: each table restored is analyzed as soon as its data, indexes and constraints are in, in a unit
    /// of its own, and the rest of the database at the end, as <c>vacuumdb --analyze-only</c> would (docs/restore.md,
    /// "Ready to serve"). Planner statistics, not what pg_dump shows: not fingerprinted, so --resume may differ in it.
    /// </summary>
    public bool Analyze { get; init; }

    /// <summary>
    /// <c>--host-memory SIZE</c> in bytes (0: not given): units that build an index set <c>maintenance_work_mem</c> to their
    /// share of it and may use the budget's room as parallel workers (<see cref="Planning.MaintenanceSettings"/>). How
    /// fast, not what: not fingerprinted.
    /// </summary>
    public long HostMemory { get; init; }

    /// <summary>The psql <c>\restrict</c> key of script output (pg_restore makes a random one when none is given).</summary>
    public string? RestrictKey { get; init; }

    /// <summary>
    /// <c>tune --sample SIZE</c>: only the first SIZE bytes of each table's COPY data are loaded, up to the end of
    /// the row that crosses SIZE (0: all of it). Not a faithful restore: a trial of the schema and a prefix of the
    /// data. Data dumped with <c>--inserts</c> is loaded whole.
    /// </summary>
    public long SampleDataBytes { get; init; }
}
