namespace RestoreCluster.Grains;

/// <summary>
/// The grain storage the grains' persistent state lives in: the cluster database for silos (AdoNet, Orleans'
/// binary form), memory for the embedded single-process cluster.
/// </summary>
public static class GrainStorage
{
    /// <summary>The storage's name in the silo's configuration.</summary>
    public const string Name = "restore";
}
