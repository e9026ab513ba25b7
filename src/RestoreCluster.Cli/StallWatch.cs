using System.Diagnostics;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>
/// Notices a running restore that makes no progress (no unit done, no byte read, no row, no error) for
/// <c>--stall-warning</c> seconds, and says so once per stall, naming what runs.
/// </summary>
internal sealed class StallWatch(TimeSpan after)
{
    private readonly Stopwatch _since = Stopwatch.StartNew();
    private (int Units, long Bytes, long Rows, int Errors) _seen = (-1, -1, -1, -1);
    private bool _warned;

    /// <summary>The warning to print now, or null.</summary>
    public string? Check(JobStatus status)
    {
        var mark = (status.UnitsDone, status.BytesDone, status.Rows, status.Errors);
        if (mark != _seen)
        {
            _seen = mark;
            _since.Restart();
            _warned = false;
            return null;
        }

        if (after <= TimeSpan.Zero || _warned || status.State != JobState.Running || _since.Elapsed < after)
        {
            return null;
        }

        _warned = true;
        string running = status.Running.Count == 0 ? "no unit is running" : "running: " + string.Join(", ", status.Running.Select(r => r.Label));
        return $"no progress for {_since.Elapsed.TotalSeconds:0} s ({running}); the target may be blocked on a lock or overloaded";
    }
}
