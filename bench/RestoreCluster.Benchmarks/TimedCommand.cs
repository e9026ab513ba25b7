using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace RestoreCluster.Benchmarks;

/// <summary>One finished command: exit code, wall time, the CPU time of the command's processes, and its stderr.</summary>
internal sealed record TimedRun(int ExitCode, TimeSpan Wall, TimeSpan User, TimeSpan Sys, string Stderr)
{
    public TimeSpan Cpu => User + Sys;
}

/// <summary>
/// Runs a program with an argument list under <c>bash</c>, which reports the CPU time of the processes it
/// waited for. <see cref="Process.TotalProcessorTime"/> is of no use here: on Linux it reads
/// <c>/proc/PID/stat</c>, which no longer holds the figures once the process has exited and been reaped,
/// and never counted the process's own children. bash's <c>times</c> builtin prints two lines, the shell's own user and system time and
/// then <c>getrusage(RUSAGE_CHILDREN)</c>: every descendant that was waited for, so pg_restore's <c>-j</c>
/// worker processes count too, as does the program's start-up (the .NET runtime's for restorecluster).
/// </summary>
internal static partial class TimedCommand
{
    // $1 is the file for the figures (stdout and stderr are the program's own); the rest is the command.
    private const string Script = "f=$1; shift; \"$@\"; rc=$?; times > \"$f\"; exit $rc";

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/>. The libpq variables of this process's
    /// environment are removed and <paramref name="environment"/> is set instead, so the command sees only
    /// the server it is meant for. The wall time is from starting bash to its exit (bash's own start-up
    /// adds a few milliseconds).
    /// </summary>
    public static async Task<TimedRun> RunAsync(
        string program, IReadOnlyList<string> args, IDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string timesFile = Path.Combine(Path.GetTempPath(), $"restorecluster-bench-times-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] bashArgs = ["-c", Script, "timed", timesFile, program, .. args];
        foreach (string arg in bashArgs)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = new Process { StartInfo = start };
        var stopwatch = Stopwatch.StartNew();
        process.Start();
        process.StandardInput.Close();
        // Both pipes are drained so that a chatty program never blocks on a full pipe; stdout is not needed.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            File.Delete(timesFile);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{Path.GetFileName(program)} did not finish within {timeout.TotalMinutes:F0} min; killed it");
        }

        stopwatch.Stop();
        await stdout;
        string errors = await stderr;
        if (!File.Exists(timesFile))
        {
            throw new InvalidOperationException($"bash wrote no times for {program} (exit code {process.ExitCode}); stderr:\n{errors}");
        }

        string times = await File.ReadAllTextAsync(timesFile, CancellationToken.None);
        File.Delete(timesFile);
        var (user, sys) = ParseChildrenLine(times);
        return new TimedRun(process.ExitCode, stopwatch.Elapsed, user, sys, errors);
    }

    // bash (builtins/times.def, lib/sh/timeval.c) prints each figure as "%ldm%d%c%03ds": minutes, seconds,
    // the locale's decimal point and milliseconds, e.g. "0m1.234s 0m0.056s"; the second line is the children's.
    private static (TimeSpan User, TimeSpan Sys) ParseChildrenLine(string times)
    {
        string[] lines = times.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var figures = lines.Length == 2 ? TimesFigure().Matches(lines[1]) : null;
        if (figures is not { Count: 2 })
        {
            throw new FormatException($"unexpected output of bash's times: '{times}'");
        }

        return (Figure(figures[0]), Figure(figures[1]));
    }

    private static TimeSpan Figure(Match m) =>
        TimeSpan.FromMinutes(long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
        + TimeSpan.FromSeconds(long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))
        + TimeSpan.FromMilliseconds(long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"(\d+)m(\d+)[.,](\d{3})s")]
    private static partial Regex TimesFigure();
}
