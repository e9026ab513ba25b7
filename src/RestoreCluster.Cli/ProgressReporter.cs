using System.Globalization;
using System.Text.Json;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>
/// Progress while a restore runs: plain lines (no terminal), JSON objects one per line (--progress json,
/// on stdout), or nothing. The schema of the JSON events is in docs/progress-json.md.
/// </summary>
internal abstract class ProgressReporter
{
    public static ProgressReporter Create(string mode, CliOutput io) => mode switch
    {
        "none" => new Silent(),
        "json" => new Json(io),
        "plain" => new Plain(io),
        _ => Console.IsErrorRedirected ? new Silent() : new Plain(io),
    };

    public abstract void Report(JobStatus job, HostStatus host, TimeSpan elapsed);

    public abstract void Finish(JobStatus job, TimeSpan elapsed);

    private static string Rate(long bytes, TimeSpan elapsed) =>
        elapsed.TotalSeconds < 0.1 ? "-" : $"{bytes / 1048576.0 / elapsed.TotalSeconds:0.0} MB/s";

    private static string Eta(JobStatus job, TimeSpan elapsed)
    {
        if (job.BytesDone <= 0 || job.BytesTotal <= job.BytesDone)
        {
            return "-";
        }

        double seconds = elapsed.TotalSeconds * (job.BytesTotal - job.BytesDone) / job.BytesDone;
        return TimeSpan.FromSeconds(Math.Round(seconds)).ToString("c", CultureInfo.InvariantCulture);
    }

    private sealed class Silent : ProgressReporter
    {
        public override void Report(JobStatus job, HostStatus host, TimeSpan elapsed)
        {
        }

        public override void Finish(JobStatus job, TimeSpan elapsed)
        {
        }
    }

    private sealed class Plain(CliOutput io) : ProgressReporter
    {
        private TimeSpan _last = TimeSpan.FromSeconds(-10);

        public override void Report(JobStatus job, HostStatus host, TimeSpan elapsed)
        {
            if (elapsed - _last < TimeSpan.FromSeconds(2))
            {
                return;
            }

            _last = elapsed;
            io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"restorecluster: progress: units {job.UnitsDone}/{job.UnitsTotal}, data {job.BytesDone / 1048576.0:0.0}/{job.BytesTotal / 1048576.0:0.0} MB, {Rate(job.BytesDone, elapsed)}, ETA {Eta(job, elapsed)}, host {host.Host} {host.InFlight}/{host.Budget} in flight"));
        }

        public override void Finish(JobStatus job, TimeSpan elapsed) =>
            io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"restorecluster: progress: {job.State.ToString().ToLowerInvariant()}: units {job.UnitsDone}/{job.UnitsTotal}, data {job.BytesDone / 1048576.0:0.0} MB in {elapsed.TotalSeconds:0.0} s, errors {job.Errors}, retries {job.Retries}"));
    }

    private sealed class Json(CliOutput io) : ProgressReporter
    {
        private readonly Stream _out = io.OpenStdout();
        private string? _lastLine;

        public override void Report(JobStatus job, HostStatus host, TimeSpan elapsed) => Write("progress", job, host, elapsed);

        public override void Finish(JobStatus job, TimeSpan elapsed) => Write("end", job, null, elapsed);

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
