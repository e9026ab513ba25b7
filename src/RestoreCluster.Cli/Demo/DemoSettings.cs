namespace RestoreCluster.Cli.Demo;

/// <summary>What <c>restorecluster demo</c> was asked to do.</summary>
/// <param name="Keep">--keep: leave the server running at the end and say how to reach and remove it.</param>
/// <param name="Jobs">-j for both restores (ours and pg_restore's).</param>
/// <param name="ScaleMegabytes">Hidden --scale: the big table's size as COPY text, in MB (the tests use a few).</param>
/// <param name="AlterBeforeVerify">Hidden --alter-before-verify: one SQL statement run in our restored database before the comparison.</param>
/// <param name="Cluster">--cluster: restore on a local cluster of silo processes, one of them killed while a table loads.</param>
internal sealed record DemoSettings(bool Keep, int Jobs, int ScaleMegabytes, string? AlterBeforeVerify, bool Cluster = false);
