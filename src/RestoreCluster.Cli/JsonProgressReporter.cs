using System.Text.Json;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>
/// --progress json: one object per line on stdout, a <c>progress</c> event per change and one <c>end</c>
/// event with the summary (docs/progress-json.md).
/// </summary>
internal sealed class JsonProgressReporter(CliOutput io, string hostName) : ProgressReporter(io, hostName)
{
    private readonly Stream _out = io.OpenStdout();
    // Start times of running units are written relative to this, so they stay the same from line to line.
    private readonly DateTimeOffset _origin = DateTimeOffset.UtcNow;
    private string? _lastLine;

    protected override void Show(JobStatus job, HostStatus host, TimeSpan elapsed) => Write("progress", job, host, elapsed);

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
            ["phase"] = ProgressText.Phase(job.Phase),
            ["unitsDone"] = job.UnitsDone,
            ["unitsTotal"] = job.UnitsTotal,
            ["bytesDone"] = job.BytesDone,
            ["bytesTotal"] = job.BytesTotal,
            ["rows"] = job.Rows,
            ["errors"] = job.Errors,
            ["retries"] = job.Retries,
            ["leased"] = job.Leased,
        };
        if (kind == "progress")
        {
            o["running"] = job.Running.Select(u => new Dictionary<string, object?>
            {
                ["unit"] = u.UnitId,
                ["label"] = u.Label,
                ["startedSeconds"] = Math.Round((u.Started - _origin).TotalSeconds, 1),
                ["bytesRead"] = u.DataBytes > 0 ? Math.Min(u.BytesRead, u.DataBytes) : u.BytesRead,
                ["dataBytes"] = u.DataBytes,
            }).ToList();
        }

        if (host is not null)
        {
            var h = new Dictionary<string, object?> { ["key"] = host.Host, ["name"] = HostName, ["budget"] = host.Budget, ["inFlight"] = host.InFlight, ["waiting"] = host.Waiting };
            if (host.Adaptive is { } adaptive)
            {
                h["adaptive"] = adaptive;
                h["reason"] = host.Reason;
                h["copyPace"] = host.CopyPacePercent;
            }

            o["host"] = h;
        }

        // Everything from elapsedSeconds on changes with time alone: it does not make a new line by itself.
        o["elapsedSeconds"] = Math.Round(elapsed.TotalSeconds, 3);
        if (kind == "progress")
        {
            o["bytesPerSecond"] = Window.BytesPerSecond is { } r ? Math.Round(r) : null;
            o["etaSeconds"] = Window.Eta(job.BytesTotal)?.TotalSeconds;
        }
        else
        {
            o["summary"] = Summary(job, elapsed);
        }

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

    private static Dictionary<string, object?> Summary(JobStatus job, TimeSpan elapsed) => new()
    {
        ["wallSeconds"] = Math.Round(elapsed.TotalSeconds, 3),
        ["phases"] = new Dictionary<string, object?>
        {
            ["preData"] = Math.Round(job.PhaseSeconds.PreData, 3),
            ["data"] = Math.Round(job.PhaseSeconds.Data, 3),
            ["postData"] = Math.Round(job.PhaseSeconds.PostData, 3),
        },
        ["units"] = job.UnitsDone,
        ["rows"] = job.Rows,
        ["bytes"] = job.BytesDone,
        ["slowest"] = job.Slowest.Select(s => new Dictionary<string, object?>
        {
            ["unit"] = s.Label,
            ["seconds"] = Math.Round(s.Seconds, 3),
            ["bytes"] = s.Bytes,
            ["rows"] = s.Rows,
        }).ToList(),
        ["errors"] = job.Errors,
        ["retries"] = job.Retries,
    };
}
