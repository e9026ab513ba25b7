using RestoreCluster.Hosting;

namespace RestoreCluster.Cli;

/// <summary>
/// The embedded silo of a <c>restore -d</c>, started as soon as the command line says the restore will run through the
/// grains: it starts on the pool while this thread opens the archive, reads its TOC and reaches the target
/// (docs/performance.md, "Start-up"). Whatever ends the command before the job takes it (bad input, an unreachable
/// target, an archive from standard input, which restores serially) waits for the start to end and then stops the
/// silo, so no silo is stopped half started and none is left behind.
/// </summary>
internal sealed class EarlySilo : IDisposable
{
    private readonly Task<EmbeddedCluster> _starting;
    private readonly RestoreLogs _logs;
    private bool _taken;

    private EarlySilo(Task<EmbeddedCluster> starting, RestoreLogs logs)
    {
        _starting = starting;
        _logs = logs;
    }

    /// <summary>Starts the silo on the pool; <paramref name="logs"/> must outlive this object.</summary>
    public static EarlySilo Start(TelemetryOptions telemetry, RestoreLogs logs) =>
        new(Task.Run(() => EmbeddedCluster.StartAsync(telemetry, logs.AddTo)), logs);

    /// <summary>
    /// Stops a silo that ran no job, once its start has ended. Its records stay out of stderr meanwhile (a
    /// <c>--log-file</c> keeps them): Orleans logs errors about the calls it cancels when a silo stops right after
    /// starting, which say nothing about the command, whose own error follows (docs/telemetry.md, "Logs").
    /// </summary>
    public static async Task StopUnusedAsync(Task<EmbeddedCluster> starting, RestoreLogs logs)
    {
        EmbeddedCluster cluster;
        try
        {
            cluster = await starting.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nothing ran on it: the command's own error is the one to report.
            return;
        }

        var stderr = logs.StderrLine;
        logs.StderrLine = _ => { };
        try
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            logs.StderrLine = stderr;
        }
    }

    /// <summary>The silo for the job, which then owns it (and stops it).</summary>
    public Task<EmbeddedCluster> Take()
    {
        _taken = true;
        return _starting;
    }

    public void Dispose()
    {
        if (!_taken)
        {
            StopUnusedAsync(_starting, _logs).GetAwaiter().GetResult();
        }
    }
}
