using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// <c>restorecluster demo</c> running as a watched child process: stdout line by line (to act when it says
/// it is restoring), the folder and postmaster pid it announces, and the checks that it left nothing behind.
/// </summary>
internal sealed partial class DemoProcess : IDisposable
{
    public static readonly TimeSpan Guard = TimeSpan.FromMinutes(5);

    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> waits = [];

    private DemoProcess(ProcessStartInfo start)
    {
        process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public int ExitCode => process.ExitCode;

    public string Stdout
    {
        get
        {
            lock (stdout)
            {
                return stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    /// <summary>The demo's temporary folder, from its first lines (null if it never said).</summary>
    public string? Folder => FolderLine().Match(Stdout) is { Success: true } m ? m.Groups[1].Value : null;

    public int? PostmasterPid => FolderLine().Match(Stdout) is { Success: true } m ? int.Parse(m.Groups[2].Value) : null;

    /// <summary>Runs <c>dotnet restorecluster.dll demo ARGS</c> as this user; PG* variables point at nothing, to show they are ignored.</summary>
    public static DemoProcess Start(IEnumerable<string> demoArgs) =>
        StartCommand(RepoPaths.DotnetHost, [RepoPaths.CliDll, "demo", .. demoArgs], workingDirectory: null);

    /// <summary>Runs any command line (for another user: runuser ... dotnet restorecluster.dll demo).</summary>
    public static DemoProcess StartCommand(string fileName, IEnumerable<string> args, string? workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["PGHOST"] = "/nonexistent-demo-must-ignore";
        start.Environment["PGPORT"] = "1";
        start.Environment["PGUSER"] = "demo_must_ignore";
        start.Environment["PGDATABASE"] = "demo_must_ignore";
        start.Environment["PGPASSWORD"] = "demo-must-ignore";
        start.Environment["PGSSLMODE"] = "require";
        return new DemoProcess(start);
    }

    /// <summary>Completes once a stdout line contains <paramref name="text"/>; fails if the process ends first or the guard passes.</summary>
    public async Task WaitForLineAsync(string text)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (stdout)
        {
            if (stdout.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            waits.Add((text, seen));
        }

        var ended = process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, ended).WaitAsync(Guard);
        Assert.True(first == seen.Task, $"the demo ended before printing \"{text}\"; stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Waits for the end within <paramref name="limit"/> (the guard by default); a hung demo is killed and the test fails.</summary>
    public async Task WaitForExitAsync(TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? Guard);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"the demo did not end within {(limit ?? Guard).TotalSeconds} s; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // The end of the process comes before the last output events.
        process.WaitForExit();
    }

    /// <summary>No folder, no postmaster, no process whose command line names the folder.</summary>
    public void AssertNothingLeftBehind()
    {
        string folder = Folder ?? throw new InvalidOperationException($"the demo never named its folder; stdout:\n{Stdout}");
        Assert.False(Directory.Exists(folder), $"the demo left its folder {folder}");
        foreach (string dir in Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            string? commandLine = ReadCommandLine(dir);
            Assert.False(commandLine?.Contains(folder, StringComparison.Ordinal) == true, $"a process is left that names {folder}: {commandLine}");
        }

        if (PostmasterPid is { } pid)
        {
            string? commandLine = ReadCommandLine($"/proc/{pid}");
            Assert.False(commandLine?.Contains("postgres", StringComparison.Ordinal) == true, $"the demo's postmaster {pid} still runs: {commandLine}");
        }
    }

    public void Dispose() => process.Dispose();

    private static string? ReadCommandLine(string procDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDirectory, "cmdline")).Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended while we looked: it is not left behind.
            return null;
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (stdout)
        {
            stdout.AppendLine(line);
            foreach (var wait in waits.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                wait.Seen.TrySetResult();
                waits.Remove(wait);
            }
        }
    }

    [GeneratedRegex(@"folder (\S+), port \d+ .*, pid (\d+):")]
    private static partial Regex FolderLine();
}
