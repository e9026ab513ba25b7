using System.Diagnostics;

namespace RestoreCluster.Testing;

/// <summary>
/// The CLI started as a child process that a test watches while it runs (to kill or interrupt it), with its
/// output collected in the background.
/// </summary>
public sealed class RunningCli : IDisposable
{
    private RunningCli(Process process)
    {
        Process = process;
        Stdout = process.StandardOutput.ReadToEndAsync();
        Stderr = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }

    public Task<string> Stdout { get; }

    public Task<string> Stderr { get; }

    /// <summary>Starts <c>restorecluster</c> with the arguments, reaching <paramref name="server"/> through its libpq environment.</summary>
    public static RunningCli Start(PostgresServer server, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(RepoPaths.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepoPaths.CliDll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in server.LibpqEnvironment())
        {
            start.Environment[key] = value;
        }

        return new RunningCli(Process.Start(start) ?? throw new InvalidOperationException("could not start restorecluster"));
    }

    /// <summary>Kills the CLI and its children (if still running), waits for it to exit and for its output to end.</summary>
    public async Task KillAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        await Process.WaitForExitAsync();
        await Task.WhenAll(Stdout, Stderr);
    }

    public void Dispose() => Process.Dispose();
}
