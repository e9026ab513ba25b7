using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// The budget key of a job's target server: its system identifier and port where the role may read them,
/// so one server reached by different names, addresses or a socket counts once; else the resolved name.
/// </summary>
public static class HostIdentity
{
    /// <summary>
    /// Opens one connection to the target, reads its identity and closes it. It takes no permit: the embedded
    /// CLI resolves it before its silo and job exist, so no unit of this process runs against the target yet, and
    /// the connection is gone before the first unit session opens (a shared cluster must hold a permit of
    /// the name's budget around it).
    /// </summary>
    /// <param name="reportWarning">Where a retried connect is reported (the restore's warnings).</param>
    public static string Resolve(ConnectionTarget target, Action<string>? reportWarning = null) =>
        ServerIdentity.Read(target, reportWarning) ?? HostKey.For(target);
}
