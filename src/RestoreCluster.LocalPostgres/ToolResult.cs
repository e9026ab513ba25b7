namespace RestoreCluster.LocalPostgres;

/// <summary>The outcome of one tool run: its exit code, stdout (unless it went to a file) and stderr.</summary>
public sealed record ToolResult(string Name, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws a one-line <see cref="LocalPostgresException"/> naming the tool and its last stderr line.</summary>
    public ToolResult EnsureSuccess()
    {
        if (!Succeeded)
        {
            string last = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no message";
            throw new LocalPostgresException($"{Name} exited with code {ExitCode}: {last}");
        }

        return this;
    }
}
