namespace RestoreCluster.Grains.Abstractions;

/// <summary>
/// One restore job as submitted: the archive, where it goes, how, and how wide. <see cref="TraceParent"/> is the
/// W3C trace context of the job's span, so units run on any silo become its children. <see cref="HostKey"/> names
/// the target server's budget.
/// </summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] string JobId,
    [property: Id(1)] string ArchivePath,
    [property: Id(2)] IReadOnlyDictionary<string, string> Target,
    [property: Id(3)] JobOptions Options,
    [property: Id(4)] IReadOnlyList<int>? Order,
    [property: Id(5)] int Jobs,
    [property: Id(6)] int HostBudget,
    [property: Id(7)] bool Resume,
    [property: Id(8)] string? TraceParent = null,
    [property: Id(9)] string? HostKey = null);

/// <summary>pg_restore's options of a job (RestoreOptions and SelectionOptions), as they travel between grains.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobOptions")]
public sealed record JobOptions
{
    [Id(0)] public IReadOnlyList<string> SchemaNames { get; init; } = [];
    [Id(1)] public IReadOnlyList<string> ExcludeSchemaNames { get; init; } = [];
    [Id(2)] public IReadOnlyList<string> TableNames { get; init; } = [];
    [Id(3)] public IReadOnlyList<string> IndexNames { get; init; } = [];
    [Id(4)] public IReadOnlyList<string> FunctionNames { get; init; } = [];
    [Id(5)] public IReadOnlyList<string> TriggerNames { get; init; } = [];
    [Id(6)] public bool SchemaOnly { get; init; }
    [Id(7)] public bool DataOnly { get; init; }
    [Id(8)] public bool CreateDatabase { get; init; }
    [Id(9)] public bool NoPrivileges { get; init; }
    [Id(10)] public bool NoComments { get; init; }
    [Id(11)] public bool NoPublications { get; init; }
    [Id(12)] public bool NoSecurityLabels { get; init; }
    [Id(13)] public bool NoSubscriptions { get; init; }
    [Id(14)] public int Sections { get; init; } = 7;
    [Id(15)] public IReadOnlyList<int>? WantedIds { get; init; }
    [Id(16)] public bool Clean { get; init; }
    [Id(17)] public bool IfExists { get; init; }
    [Id(18)] public bool NoOwner { get; init; }
    [Id(19)] public bool UseSetSessionAuthorization { get; init; }
    [Id(20)] public bool NoTablespaces { get; init; }
    [Id(21)] public bool NoTableAccessMethod { get; init; }
    [Id(22)] public string? Role { get; init; }
    [Id(23)] public string? Superuser { get; init; }
    [Id(24)] public bool DisableTriggers { get; init; }
    [Id(25)] public bool EnableRowSecurity { get; init; }
    [Id(26)] public bool NoDataForFailedTables { get; init; }
    [Id(27)] public bool ExitOnError { get; init; }
    [Id(28)] public bool StrictNames { get; init; }
}
