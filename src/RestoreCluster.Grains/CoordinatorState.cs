using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Grains;

/// <summary>
/// What a job's coordinator keeps in grain storage to continue after its silo is gone (docs/concurrency.md,
/// "Jobs survive machines"): the job as submitted (its target without a password), whether it runs or how it
/// ended, and for an ended job the counts its status shows. Which units are done is not here: the target's
/// journal has every unit's outcome, and a unit run again stops at its journal row and reports it.
/// </summary>
[GenerateSerializer, Alias("RestoreCluster.CoordinatorState")]
public sealed class CoordinatorState
{
    [Id(0)] public JobSpec? Spec { get; set; }

    [Id(1)] public JobState State { get; set; }

    [Id(2)] public string? Message { get; set; }

    [Id(3)] public int Errors { get; set; }

    [Id(4)] public int Retries { get; set; }

    /// <summary>For an ended job: its units done and in all (the final journal drop included).</summary>
    [Id(5)] public int UnitsDone { get; set; }

    [Id(6)] public int UnitsTotal { get; set; }

    /// <summary>How often the job was taken up again from this state (each time, every unit ran again).</summary>
    [Id(7)] public int TakenUp { get; set; }

    /// <summary>The units that ran again, as status shows them (kept up to <see cref="RanAgainKept"/>).</summary>
    [Id(8)] public List<string> RanAgain { get; set; } = [];

    /// <summary>At most this many ran-again labels are stored.</summary>
    public const int RanAgainKept = 1000;

    /// <summary>The keywords of a target that are never stored: the password, and where one would be read.</summary>
    public static IReadOnlyDictionary<string, string> WithoutSecrets(IReadOnlyDictionary<string, string> target) =>
        target.Where(kv => !kv.Key.Equals("password", StringComparison.OrdinalIgnoreCase) && !kv.Key.Equals("passfile", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}

/// <summary>A host budget grain's stored state: the budget of its target server across the cluster.</summary>
[GenerateSerializer, Alias("RestoreCluster.HostBudgetState")]
public sealed class HostBudgetState
{
    [Id(0)] public int Budget { get; set; }
}
