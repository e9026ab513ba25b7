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
    /// <c>--no-keys-as-indexes</c>: primary keys and unique constraints run as pg_dump wrote them (one
    /// <c>ALTER TABLE ... ADD CONSTRAINT</c> that locks its table), instead of <c>CREATE UNIQUE INDEX</c> beside the
    /// table's other index builds and then <c>ADD CONSTRAINT ... USING INDEX</c> (<see cref="Planning.KeyPlan"/>,
    /// docs/restore.md). The same catalog either way: not fingerprinted.
    /// </summary>
    public bool NoKeysAsIndexes { get; init; }

    /// <summary>
    /// <c>--no-fk-not-valid</c>: foreign keys run as pg_dump wrote them (one <c>ADD CONSTRAINT</c> whose scan
    /// holds SHARE ROW EXCLUSIVE on both tables), instead of <c>NOT VALID</c> and then <c>VALIDATE CONSTRAINT</c>
    /// in a transaction of its own (<see cref="Planning.ForeignKey"/>, docs/restore.md). The same catalog either
    /// way: not fingerprinted.
    /// </summary>
    public bool NoFkNotValid { get; init; }

    /// <summary>
    /// <c>--split-larger-than SIZE</c>: a table whose data size estimate is above SIZE bytes loads as several chunk
    /// units (docs/restore.md, "Split big TABLE DATA"); 0 (<c>none</c>): no table is split. Fingerprinted through
    /// the chunks it cuts (<see cref="RestoreJournal.For"/>), not as a number.
    /// </summary>
    public long SplitLargerThan { get; init; } = DefaultSplitLargerThan;

    /// <summary>
    /// The default of <see cref="SplitLargerThan"/>, 256 MB of archive data: lower thresholds were measured not to pay
    /// on the benchmark's 2-core machine (docs/performance.md, "Split big TABLE DATA: the default").
    /// </summary>
    public const long DefaultSplitLargerThan = 256L << 20;

    /// <summary>
    /// How the tables of a job of <paramref name="jobs"/> slots are split: chunks of at most min(-j,
    /// <see cref="TableSplit.ChunkCap"/>) per table, and none where a split is not safe: <c>-1</c> and <c>-j 1</c>
    /// (one session), <c>--disable-triggers</c> (each chunk's DISABLE TRIGGER would lock the table
    /// until its commit), <c>tune --sample</c> (a prefix of each table's rows).
    /// </summary>
    public TableSplit SplitFor(int jobs) =>
        SingleTransaction || DisableTriggers || SampleDataBytes > 0 || SplitLargerThan <= 0 || jobs < 2
            ? TableSplit.Off
            : new TableSplit(SplitLargerThan, Math.Min(jobs, TableSplit.ChunkCap));

    /// <summary>
    /// <c>--serial-pre-data</c>: all of pre-data on one session, as pg_restore, instead of runs of plain tables and
    /// sequences side by side (<see cref="PreDataGroupsFor"/>, docs/restore.md). The same entries with the same journal
    /// rows either way: not fingerprinted.
    /// </summary>
    public bool SerialPreData { get; init; }

    /// <summary>
    /// The pre-data groups of a job whose units run on <paramref name="slots"/> sessions at once (min(-j, host budget)):
    /// none with <c>--serial-pre-data</c>, on one session, with <c>-1</c>, or with <c>-e</c> (and so
    /// <c>--transaction-size</c>, which implies it): pg_restore -e stops at the first failing entry of pre-data, and
    /// the entries after it are not restored, where a group would have restored some of them on other sessions.
    /// </summary>
    public PreDataGroups PreDataGroupsFor(int slots) =>
        SerialPreData || SingleTransaction || ExitOnError || TransactionSize > 0 ? PreDataGroups.Off : PreDataGroups.ForSlots(slots);

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
