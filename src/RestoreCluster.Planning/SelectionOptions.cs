using System.Text.Json.Serialization;

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

    /// <summary><c>--no-data</c> (pg_restore 18).</summary>
    public bool NoData { get; init; }

    /// <summary><c>--no-schema</c> (pg_restore 18).</summary>
    public bool NoSchema { get; init; }

    /// <summary><c>--statistics</c> (pg_restore 18; statistics are restored by default anyway).</summary>
    public bool Statistics { get; init; }

    /// <summary><c>--no-statistics</c> (pg_restore 18).</summary>
    public bool NoStatistics { get; init; }

    /// <summary><c>--statistics-only</c> (pg_restore 18).</summary>
    public bool StatisticsOnly { get; init; }

    /// <summary><c>--no-policies</c> (pg_restore 18): no POLICY and ROW SECURITY entries, no comments on policies.</summary>
    public bool NoPolicies { get; init; }

    // pg_restore.c (18) derives its dumpData, dumpSchema and dumpStatistics from the options above, after
    // refusing the contradictory pairs; with none of the 18 options these are !SchemaOnly and !DataOnly.

    /// <summary>Whether data is restored (pg_restore 18's opts->dumpData).</summary>
    [JsonIgnore]
    public bool DumpData => ((!SchemaOnly && !StatisticsOnly) || DataOnly) && !NoData;

    /// <summary>Whether schema is restored (pg_restore 18's opts->dumpSchema).</summary>
    [JsonIgnore]
    public bool DumpSchema => ((!DataOnly && !StatisticsOnly) || SchemaOnly) && !NoSchema;

    /// <summary>Whether STATISTICS DATA entries are restored (pg_restore 18's opts->dumpStatistics, true by default).</summary>
    [JsonIgnore]
    public bool DumpStatistics => ((!SchemaOnly && !DataOnly) || StatisticsOnly || Statistics) && !NoStatistics;

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
    [JsonIgnore]
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
