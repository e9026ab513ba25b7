namespace RestoreCluster.Testing;

/// <summary>Runs the built <c>restorecluster</c> CLI (<c>dotnet restorecluster.dll ARGS</c>) as a child process.</summary>
public static class CliRunner
{
    public static Task<ProcessResult> RunAsync(
        IEnumerable<string> args,
        IDictionary<string, string>? env = null,
        byte[]? stdin = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        CancellationToken cancellationToken = default)
    {
        var fullEnv = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        if (env is not null)
        {
            foreach (var (key, value) in env)
            {
                fullEnv[key] = value;
            }
        }

        return ProcessRunner.RunAsync(
            RepoPaths.DotnetHost,
            [RepoPaths.CliDll, .. args],
            fullEnv,
            stdin,
            timeout,
            workingDirectory,
            cancellationToken);
    }

    /// <summary>Runs the CLI against <paramref name="server"/>: its libpq environment (PGHOST, PGPORT, PGUSER, ...) is set.</summary>
    public static Task<ProcessResult> RunAsync(
        PostgresServer server,
        IEnumerable<string> args,
        IDictionary<string, string>? env = null,
        byte[]? stdin = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var fullEnv = server.LibpqEnvironment();
        if (env is not null)
        {
            foreach (var (key, value) in env)
            {
                fullEnv[key] = value;
            }
        }

        return RunAsync(args, fullEnv, stdin, timeout, cancellationToken: cancellationToken);
    }
}
