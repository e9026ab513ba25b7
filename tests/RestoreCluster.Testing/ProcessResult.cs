using System.Text;

namespace RestoreCluster.Testing;

/// <summary>The outcome of one finished (or killed) process.</summary>
public sealed record ProcessResult(
    string FileName,
    IReadOnlyList<string> Arguments,
    int ExitCode,
    byte[] Stdout,
    string Stderr,
    bool TimedOut,
    TimeSpan Duration)
{
    /// <summary>Stdout decoded as UTF-8.</summary>
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public bool Succeeded => !TimedOut && ExitCode == 0;

    /// <summary>Throws with the command line, exit code and stderr when the process did not exit 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (!Succeeded)
        {
            throw new InvalidOperationException(Describe());
        }

        return this;
    }

    public string Describe()
    {
        var what = TimedOut ? $"timed out after {Duration.TotalSeconds:0.#} s" : $"exited with code {ExitCode}";
        return $"{FileName} {string.Join(' ', Arguments.Select(Quote))} {what}\nstderr:\n{Tail(Stderr, 4000)}";
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_=./:,@%+".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";

    private static string Tail(string text, int max) => text.Length <= max ? text : "..." + text[^max..];
}
