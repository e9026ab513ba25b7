using System.Diagnostics;

namespace RestoreCluster.LocalPostgres;

/// <summary>
/// Runs a program (initdb, pg_dump, chown, ...) with an argument list and no shell. The libpq environment
/// (every PG* variable: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGOPTIONS, PGTZ, ...) is removed
/// from the child's environment, so a throwaway server's tools never reach, or are shaped by, another server.
/// <paramref name="environment"/> adds variables (another major's LD_LIBRARY_PATH). On cancellation or timeout the process tree is killed.
/// </summary>
public static class PgTool
{
    /// <summary>True for the variables libpq and the server tools read (all start with PG).</summary>
    public static bool IsLibpqVariable(string name) => name.StartsWith("PG", StringComparison.Ordinal);

    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> args,
        string? stdoutFile = null,
        string? workingDirectory = null,
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (string name in start.Environment.Keys.Where(IsLibpqVariable).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        string name0 = Path.GetFileName(fileName);
        string shownName = name0 == "setpriv" && start.ArgumentList.IndexOf("--") is int dash and >= 0 && dash + 1 < start.ArgumentList.Count
            ? Path.GetFileName(start.ArgumentList[dash + 1])
            : name0;
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LocalPostgresException($"could not start {fileName}: {e.Message}", e);
        }

        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        Task<string> stdout;
        if (stdoutFile is null)
        {
            stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        }
        else
        {
            stdout = CopyToFileAsync(process.StandardOutput.BaseStream, stdoutFile);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? Timeout.InfiniteTimeSpan);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new LocalPostgresException($"{shownName} did not finish within {timeout?.TotalSeconds} s; killed it");
        }

        return new ToolResult(shownName, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), stopwatch.Elapsed);
    }

    private static async Task<string> CopyToFileAsync(Stream source, string path)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true);
        await source.CopyToAsync(file, CancellationToken.None).ConfigureAwait(false);
        return "";
    }
}
