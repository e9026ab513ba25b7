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

    private readonly WatchedCli cli;

    private DemoProcess(ProcessStartInfo start)
    {
        cli = WatchedCli.Start(start);
    }

    public int Id => cli.Process.Id;

    public int ExitCode => cli.Process.ExitCode;

    public string Stdout => string.Join('\n', cli.StdoutLines);

    public string Stderr => string.Join('\n', cli.StderrLines);

    /// <summary>The demo's temporary folder, from its first lines (null if it never said).</summary>
    public string? Folder => FolderLine().Match(Stdout) is { Success: true } m ? m.Groups[1].Value : null;

    public int? PostmasterPid => FolderLine().Match(Stdout) is { Success: true } m ? int.Parse(m.Groups[2].Value) : null;

    /// <summary>Runs <c>dotnet restorecluster.dll demo ARGS</c> as this user; PG* variables point at nothing, to show they are ignored.</summary>
    public static DemoProcess Start(IEnumerable<string> demoArgs) =>
        StartCommand(RepoPaths.DotnetHost, [RepoPaths.CliDll, "demo", .. demoArgs], workingDirectory: null);

    /// <summary>Runs any command line (for another user: runuser ... dotnet restorecluster.dll demo).</summary>
    public static DemoProcess StartCommand(string fileName, IEnumerable<string> args, string? workingDirectory)
    {
        var start = new ProcessStartInfo(fileName) { WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
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
        bool Seen() => cli.StdoutLines.Any(l => l.Contains(text, StringComparison.Ordinal));
        await cli.WaitUntilAsync(() => Seen() || cli.Process.HasExited, Guard, $"the demo to print \"{text}\"");
        if (!Seen())
        {
            // Ended: the last lines may still be on their way.
            cli.Process.WaitForExit();
        }

        Assert.True(Seen(), $"the demo ended before printing \"{text}\"; stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Waits for the end within <paramref name="limit"/> (the guard by default); a hung demo is killed and the test fails.</summary>
    public async Task WaitForExitAsync(TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? Guard);
        try
        {
            await cli.Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            cli.Process.Kill(entireProcessTree: true);
            await cli.Process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"the demo did not end within {(limit ?? Guard).TotalSeconds} s; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // The end of the process comes before the last output events.
        cli.Process.WaitForExit();
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

    public void Dispose() => cli.Dispose();

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

    [GeneratedRegex(@"folder (\S+), port \d+ .*, pid (\d+):")]
    private static partial Regex FolderLine();
}
