using System.Globalization;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>
/// Progress while a restore runs: a live display on a terminal (<see cref="LiveProgressReporter"/>), plain
/// lines on stderr, JSON objects one per line (--progress json, on stdout, <see cref="JsonProgressReporter"/>),
/// or nothing. The restore's error messages go through the reporter too, so a live display can print them
/// above itself. The schema of the JSON events is in docs/progress-json.md.
/// </summary>
/// <param name="hostName">The target as the user named it (<c>db1:5432</c>); the budget key is only for logs and JSON.</param>
internal abstract class ProgressReporter(CliOutput io, string hostName) : IAsyncDisposable
{
    protected CliOutput Io { get; } = io;

    protected string HostName { get; } = hostName;

    /// <summary>Rate and ETA over the recent past, fed with every report.</summary>
    protected ThroughputWindow Window { get; } = new();

    public static ProgressReporter Create(string mode, CliOutput io, string hostName) => mode switch
    {
        "none" => new Silent(io, hostName),
        "json" => new JsonProgressReporter(io, hostName),
        "plain" => new Plain(io, hostName),
        _ => Console.IsErrorRedirected ? new Silent(io, hostName) : new LiveProgressReporter(io, hostName),
    };

    public void Report(JobStatus job, HostStatus host, TimeSpan elapsed)
    {
        Window.Add(elapsed, job.BytesDone);
        Show(job, host, elapsed);
    }

    public abstract ValueTask FinishAsync(JobStatus job, TimeSpan elapsed);

    /// <summary>Prints an error of the restore (one line on stderr).</summary>
    public void Error(string message) => WriteLine(CliOutput.ErrorLine(message));

    /// <summary>Prints a warning of the restore (a retried unit's lost session, say).</summary>
    public void Warning(string message) => WriteLine(CliOutput.WarningLine(message));

    /// <summary>Prints a -v message of the restore (one line on stderr, whatever the progress mode).</summary>
    public void Info(string message) => WriteLine(CliOutput.InfoLine(message));

    /// <summary>Writes a line to stderr (above a live display); log records on stderr come this way while the restore runs.</summary>
    public virtual void WriteLine(string line) => Io.Error.WriteLine(line);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected abstract void Show(JobStatus job, HostStatus host, TimeSpan elapsed);

    protected void WriteSummary(JobStatus job, TimeSpan elapsed)
    {
        foreach (string line in ProgressText.Summary(job, elapsed))
        {
            Io.Error.WriteLine(line);
        }
    }

    private sealed class Silent(CliOutput io, string hostName) : ProgressReporter(io, hostName)
    {
        protected override void Show(JobStatus job, HostStatus host, TimeSpan elapsed)
        {
        }

        public override ValueTask FinishAsync(JobStatus job, TimeSpan elapsed) => ValueTask.CompletedTask;
    }

    private sealed class Plain(CliOutput io, string hostName) : ProgressReporter(io, hostName)
    {
        private TimeSpan _last = TimeSpan.FromSeconds(-10);

        protected override void Show(JobStatus job, HostStatus host, TimeSpan elapsed)
        {
            if (elapsed - _last < TimeSpan.FromSeconds(2))
            {
                return;
            }

            _last = elapsed;
            var now = DateTimeOffset.UtcNow;
            string running = job.Running.Count == 0 ? "" : $", running: {string.Join("; ", job.Running.Select(u => ProgressText.Running(u, now)))}";
            Io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"restorecluster: progress: {ProgressText.Phase(job.Phase)}, units {job.UnitsDone}/{job.UnitsTotal}, data {ProgressText.Data(job.BytesDone, job.BytesTotal)}, {ProgressText.Rate(Window.BytesPerSecond)}, ETA {ProgressText.Eta(Window.Eta(job.BytesTotal))}, host {HostName} {host.InFlight}/{host.Budget} in flight{(host.Adaptive is null ? "" : $" (budget {host.Adaptive}: {host.Reason ?? "starting"})")}{running}"));
        }

        public override ValueTask FinishAsync(JobStatus job, TimeSpan elapsed)
        {
            WriteSummary(job, elapsed);
            return ValueTask.CompletedTask;
        }
    }
}
