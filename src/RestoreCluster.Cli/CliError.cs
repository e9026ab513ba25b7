namespace RestoreCluster.Cli;

/// <summary>A failure to report as one line <c>restorecluster: error: ...</c> with an exit code.</summary>
internal sealed class CliError(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The exit codes of cli.md: 0 success, 1 errors or a fatal error, 2 wrong usage.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
