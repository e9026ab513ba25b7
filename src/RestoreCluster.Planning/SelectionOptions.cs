namespace RestoreCluster.Planning;

/// <summary>
/// pg_restore's options that decide which entries, and which parts of them, are restored
/// (RestoreOptions in pg_backup.h, as _tocEntryRequired reads them).
/// </summary>
public sealed record SelectionOptions
{
    public static SelectionOptions Default { get; } = new();

    /// <summary><c>-n</c>: only these schemas (exact names).</summary>
    public IReadOnlyList<string> SchemaNames { get; init; } = [];

    /// <summary><c>-N</c>: not these schemas.</summary>
    public IReadOnlyList<string> ExcludeSchemaNames { get; init; } = [];

    /// <summary><c>-t</c>: only these tables, views, sequences, matviews and foreign tables.</summary>
    public IReadOnlyList<string> TableNames { get; init; } = [];

    /// <summary><c>-I</c>: only these indexes.</summary>
    public IReadOnlyList<string> IndexNames { get; init; } = [];

    /// <summary><c>-P</c>: only these functions, aggregates and procedures (tag, e.g. <c>f(integer)</c>).</summary>
    public IReadOnlyList<string> FunctionNames { get; init; } = [];

    /// <summary><c>-T</c>: only these triggers.</summary>
    public IReadOnlyList<string> TriggerNames { get; init; } = [];

    public bool SchemaOnly { get; init; }

    public bool DataOnly { get; init; }

    /// <summary><c>-C</c>.</summary>
    public bool CreateDatabase { get; init; }

    /// <summary><c>-x</c>.</summary>
    public bool NoPrivileges { get; init; }

    public bool NoComments { get; init; }

    public bool NoPublications { get; init; }

    public bool NoSecurityLabels { get; init; }

    public bool NoSubscriptions { get; init; }

    /// <summary><c>--section</c> values given (empty: all sections).</summary>
    public RestoreSections Sections { get; init; } = RestoreSections.All;

    /// <summary><c>--strict-names</c>: every -n/-t/-I/-P/-T name must match something.</summary>
    public bool StrictNames { get; init; }

    /// <summary>The dump IDs a <c>-L</c> list wants, or null without <c>-L</c>.</summary>
    public IReadOnlySet<int>? WantedIds { get; init; }

    /// <summary>True when any of <c>-t/-I/-P/-T</c> was given (pg_restore's selTypes).</summary>
    public bool SelectsTypes => TableNames.Count + IndexNames.Count + FunctionNames.Count + TriggerNames.Count > 0;
}

/// <summary>The <c>--section</c> flags (DUMP_PRE_DATA, DUMP_DATA, DUMP_POST_DATA).</summary>
[Flags]
public enum RestoreSections
{
    None = 0,
    PreData = 1,
    Data = 2,
    PostData = 4,
    All = PreData | Data | PostData,
}
