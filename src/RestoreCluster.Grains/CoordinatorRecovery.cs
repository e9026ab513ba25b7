using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Grains;

/// <summary>What an activation of a coordinator does with the state it finds in storage.</summary>
public enum RecoveryAction
{
    /// <summary>No job there: the activation waits for Start.</summary>
    None,

    /// <summary>A running job whose coordinator was lost: plan it again and run every unit again.</summary>
    Continue,

    /// <summary>An ended job: show how it ended, run nothing.</summary>
    ShowEnded,
}

/// <summary>
/// The coordinator's decisions about a job taken up from storage (docs/concurrency.md, "Jobs survive machines").
/// A job taken up again runs as a resume of the same run (same job id: its sessions join its journal), and none
/// of its units is a first run: what an earlier coordinator leased may have committed (its journal row says so)
/// or left rolled-back rows in a table (so TRUNCATE before COPY), and -C's database may already be there.
/// </summary>
public static class CoordinatorRecovery
{
    public static RecoveryAction OnActivation(CoordinatorState state) => state switch
    {
        { Spec: null } or { State: JobState.NotStarted } => RecoveryAction.None,
        { State: JobState.Running } => RecoveryAction.Continue,
        _ => RecoveryAction.ShowEnded,
    };

    /// <summary>
    /// Whether a lease is a unit's first run: its first attempt, not under --resume, and not in a job taken up again.
    /// </summary>
    public static bool FirstRun(int attempt, bool resume, bool takenUp) => attempt == 1 && !resume && !takenUp;
}
