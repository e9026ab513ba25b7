using RestoreCluster.Hosting;

namespace RestoreCluster.Cli;

/// <summary>
/// The embedded silo of a <c>restore -d</c>, started as soon as the command line says the restore will run through the
/// grains: it starts on the pool while this thread opens the archive, reads its TOC and reaches the target
/// (docs/concurrency.md, "The host key"). The job takes it once the target is reached (<see cref="Take"/>). Whatever
/// ends the command before that (bad input, an unreachable target) disposes it, and so does an archive path that turns
/// out not to be seekable, which restores serially, before that restore starts: the start is waited for and the silo
/// stopped, so no silo is stopped half started, none idles beside a serial restore and none is left behind.
/// </summary>
internal sealed class EarlySilo : IDisposable
{
    private readonly Task<EmbeddedCluster> _starting;
    private readonly RestoreLogs _logs;
    private bool _taken;
    private bool _stopped;

    private EarlySilo(Task<EmbeddedCluster> starting, RestoreLogs logs)
    {
        _starting = starting;
        _logs = logs;
    }

    /// <summary>Starts the silo on the pool; <paramref name="logs"/> must outlive this object.</summary>
    public static EarlySilo Start(TelemetryOptions telemetry, RestoreLogs logs) =>
        new(Task.Run(() => EmbeddedCluster.StartAsync(telemetry, logs.AddTo)), logs);

    /// <summary>The silo for the job, which then owns it (and stops it).</summary>
    public Task<EmbeddedCluster> Take()
    {
        _taken = true;
        return _starting;
    }

    /// <summary>Stops the silo unless the job took it; only the first call stops it.</summary>
    public void Dispose()
    {
        if (!_taken && !_stopped)
        {
            _stopped = true;
            StopUnusedAsync().GetAwaiter().GetResult();
        }
    }

    // Stops a silo that ran no job, once its start has ended. Its records stay out of stderr meanwhile (a --log-file
    // keeps them): Orleans logs errors about the calls it cancels when a silo stops right after starting, which say
    // nothing about the command, whose own error follows (docs/telemetry.md, "Logs").
    private async Task StopUnusedAsync()
    {
        EmbeddedCluster cluster;
        try
        {
            cluster = await _starting.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nothing ran on it: the command's own error is the one to report.
            return;
        }

        var stderr = _logs.StderrLine;
        _logs.StderrLine = _ => { };
        try
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _logs.StderrLine = stderr;
        }
    }
}
