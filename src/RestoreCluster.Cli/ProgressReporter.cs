using System.Globalization;
using System.Text.Json;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>
/// Progress while a restore runs: a live display on a terminal (<see cref="LiveProgressReporter"/>), plain
/// lines on stderr, JSON objects one per line (--progress json, on stdout), or nothing. The restore's error
/// messages go through the reporter too, so a live display can print them above itself. The schema of the
/// JSON events is in docs/progress-json.md.
/// </summary>
internal abstract class ProgressReporter(CliOutput io) : IAsyncDisposable
{
    protected CliOutput Io { get; } = io;

    public static ProgressReporter Create(string mode, CliOutput io) => mode switch
    {
        "none" => new Silent(io),
        "json" => new Json(io),
        "plain" => new Plain(io),
        _ => Console.IsErrorRedirected ? new Silent(io) : new LiveProgressReporter(io),
    };

    public abstract void Report(JobStatus job, HostStatus host, TimeSpan elapsed);

    public abstract ValueTask FinishAsync(JobStatus job, TimeSpan elapsed);

    /// <summary>Prints an error of the restore (one line on stderr).</summary>
    public virtual void Error(string message) => Io.Fail(message);

    /// <summary>Prints a warning of the restore (a retried unit's lost session, say).</summary>
    public virtual void Warning(string message) => Io.Warn(message);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected static string Rate(long bytes, TimeSpan elapsed) =>
        elapsed.TotalSeconds < 0.1 ? "-" : $"{bytes / 1048576.0 / elapsed.TotalSeconds:0.0} MB/s";

    protected static string Eta(JobStatus job, TimeSpan elapsed)
    {
        if (job.BytesDone <= 0 || job.BytesTotal <= job.BytesDone)
        {
            return "-";
        }

        double seconds = elapsed.TotalSeconds * (job.BytesTotal - job.BytesDone) / job.BytesDone;
        return TimeSpan.FromSeconds(Math.Round(seconds)).ToString("c", CultureInfo.InvariantCulture);
    }

    protected static string Summary(JobStatus job, TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture,
        $"restorecluster: progress: {job.State.ToString().ToLowerInvariant()}: units {job.UnitsDone}/{job.UnitsTotal}, data {job.BytesDone / 1048576.0:0.0} MB in {elapsed.TotalSeconds:0.0} s, errors {job.Errors}, retries {job.Retries}");

    private sealed class Silent(CliOutput io) : ProgressReporter(io)
    {
        public override void Report(JobStatus job, HostStatus host, TimeSpan elapsed)
        {
        }

        public override ValueTask FinishAsync(JobStatus job, TimeSpan elapsed) => ValueTask.CompletedTask;
    }

    private sealed class Plain(CliOutput io) : ProgressReporter(io)
    {
        private TimeSpan _last = TimeSpan.FromSeconds(-10);

        public override void Report(JobStatus job, HostStatus host, TimeSpan elapsed)
        {
            if (elapsed - _last < TimeSpan.FromSeconds(2))
            {
                return;
            }

            _last = elapsed;
            Io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"restorecluster: progress: units {job.UnitsDone}/{job.UnitsTotal}, data {job.BytesDone / 1048576.0:0.0}/{job.BytesTotal / 1048576.0:0.0} MB, {Rate(job.BytesDone, elapsed)}, ETA {Eta(job, elapsed)}, host {host.Host} {host.InFlight}/{host.Budget} in flight"));
        }

        public override ValueTask FinishAsync(JobStatus job, TimeSpan elapsed)
        {
            Io.Error.WriteLine(Summary(job, elapsed));
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Json(CliOutput io) : ProgressReporter(io)
    {
        private readonly Stream _out = io.OpenStdout();
        private string? _lastLine;

        public override void Report(JobStatus job, HostStatus host, TimeSpan elapsed) => Write("progress", job, host, elapsed);

        public override ValueTask FinishAsync(JobStatus job, TimeSpan elapsed)
        {
            Write("end", job, null, elapsed);
            return ValueTask.CompletedTask;
        }

        private void Write(string kind, JobStatus job, HostStatus? host, TimeSpan elapsed)
        {
            var o = new Dictionary<string, object?>
            {
                ["event"] = kind,
                ["job"] = job.JobId,
                ["state"] = job.State.ToString().ToLowerInvariant(),
                ["unitsDone"] = job.UnitsDone,
                ["unitsTotal"] = job.UnitsTotal,
                ["bytesDone"] = job.BytesDone,
                ["bytesTotal"] = job.BytesTotal,
                ["errors"] = job.Errors,
                ["retries"] = job.Retries,
                ["leased"] = job.Leased,
                ["elapsedSeconds"] = Math.Round(elapsed.TotalSeconds, 3),
            };
            if (host is not null)
            {
                o["host"] = new Dictionary<string, object?> { ["key"] = host.Host, ["budget"] = host.Budget, ["inFlight"] = host.InFlight, ["waiting"] = host.Waiting };
            }

            // One object per change of state, not per poll.
            string line = JsonSerializer.Serialize(o);
            string sameness = line[..line.IndexOf("\"elapsedSeconds\"", StringComparison.Ordinal)];
            if (kind == "progress" && sameness == _lastLine)
            {
                return;
            }

            _lastLine = sameness;
            _out.Write(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
            _out.Flush();
        }
    }
}
