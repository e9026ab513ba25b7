using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RestoreCluster.Testing;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The CLI as a child process whose stdout and stderr lines a test reads while it runs (the progress tests
/// watch a restore mid-COPY, the demo tests wait for its steps). Lines of stdout that are JSON objects are
/// parsed as progress events.
/// </summary>
internal sealed class WatchedCli : IDisposable
{
    private readonly object _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WatchedCli(Process process)
    {
        Process = process;
    }

    public Process Process { get; }

    public IReadOnlyList<JsonElement> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<string> StderrLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stderr];
            }
        }
    }

    public string Describe()
    {
        lock (_gate)
        {
            return $"stdout (last lines):\n{string.Join('\n', _stdout.TakeLast(5))}\nstderr:\n{string.Join('\n', _stderr.TakeLast(30))}";
        }
    }

    /// <summary>The stdout lines read so far.</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>Starts <c>restorecluster</c> with the arguments, reaching <paramref name="server"/> through its libpq environment.</summary>
    public static WatchedCli Start(PostgresServer server, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(RepoPaths.DotnetHost);
        start.ArgumentList.Add(RepoPaths.CliDll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in server.LibpqEnvironment())
        {
            start.Environment[key] = value;
        }

        return Start(start);
    }

    /// <summary>Starts any command line (the demo, or the CLI as another user) with its output read line by line.</summary>
    public static WatchedCli Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;
        var process = new Process { StartInfo = start };
        var cli = new WatchedCli(process);
        process.OutputDataReceived += (_, e) => cli.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => cli.OnStderr(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {start.FileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking every 50 ms; fails with <paramref name="what"/> after the timeout.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var limit = Stopwatch.StartNew();
        while (!await condition())
        {
            if (limit.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}\n{Describe()}");
            }

            await Task.Delay(50);
        }
    }

    public Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Waits for the process to exit and its output to be read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        await Process.WaitForExitAsync(limit.Token);
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(limit.Token);
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            _stdoutClosed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            _stdout.Add(line);
            if (line.StartsWith('{'))
            {
                _events.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            _stderrClosed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            _stderr.Add(line);
        }
    }
}
