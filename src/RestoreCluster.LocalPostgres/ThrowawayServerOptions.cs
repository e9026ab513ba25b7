namespace RestoreCluster.LocalPostgres;

/// <summary>How a <see cref="ThrowawayServer"/> is made; the defaults are the test harness's.</summary>
public sealed record ThrowawayServerOptions
{
    /// <summary>The temporary folder's name starts with this (under the system temp directory).</summary>
    public string DirectoryPrefix { get; init; } = "restorecluster-pg-";

    /// <summary>The initdb, postgres and pg_ctl to run; null for the installed PostgreSQL's.</summary>
    public ServerBinaries? Binaries { get; init; }

    /// <summary>More server settings (<c>name=value</c>, passed as <c>-c</c>), after the built-in ones so they win.</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>
    /// Called once the postmaster is ready and before the first connection, with the server's folder and
    /// postmaster pid (the tests start a watchdog there that cleans up if the test host is killed). Not
    /// called again by <see cref="ThrowawayServer.RestartAsync"/>: the postmaster's pid file names the new pid.
    /// </summary>
    public Func<string, int, Task>? Started { get; init; }
}
