using System.Text;
using RestoreCluster.Cli;

namespace RestoreCluster.Restore.Tests;

/// <summary>What one command line produced: exit code, stdout bytes and stderr text.</summary>
internal sealed record CliRun(int ExitCode, byte[] Stdout, string Stderr);

/// <summary>
/// Runs <c>restorecluster</c> inside the test process (Program.Run with captured streams): the same
/// parsing, option checks, -L handling and warnings as the executable, without a process per case.
/// </summary>
internal static class InProcessCli
{
    public static CliRun Run(IReadOnlyList<string> args, byte[]? stdin = null)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var io = new CliOutput(() => stdout, stderr, () => new MemoryStream(stdin ?? [], writable: false));
        int exit = Program.Run([.. args], io);
        return new CliRun(exit, stdout.ToArray(), stderr.ToString());
    }

    /// <summary>Our stderr with our program name replaced by pg_restore's, for comparing messages.</summary>
    public static string AsPgRestoreStderr(string stderr)
    {
        var b = new StringBuilder();
        foreach (string line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            b.Append(line.StartsWith("restorecluster: ", StringComparison.Ordinal) ? "pg_restore: " + line["restorecluster: ".Length..] : line).Append('\n');
        }

        return b.ToString();
    }
}
