namespace RestoreCluster.Cli;

/// <summary>
/// Throughput and ETA from the recent past: (time, bytes done) samples of the last <see cref="Window"/>. The
/// whole elapsed time would make a restore that spent minutes in pre-data look slow for the rest of its run;
/// a window follows the current rate. No rate before one second of samples, no ETA before
/// <see cref="MinimumForEta"/> of them with some bytes moved. Pure: time comes in through arguments.
/// </summary>
internal sealed class ThroughputWindow
{
    // Polls come every 20 ms; one sample per 100 ms is plenty for a 10 s window and keeps the queue short.
    private static readonly TimeSpan MinimumGap = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MinimumForRate = TimeSpan.FromSeconds(1);

    private readonly Queue<(TimeSpan At, long Bytes)> _samples = new();
    private (TimeSpan At, long Bytes) _last = (TimeSpan.MinValue, 0);

    public ThroughputWindow(TimeSpan? window = null, TimeSpan? minimumForEta = null)
    {
        Window = window ?? TimeSpan.FromSeconds(10);
        MinimumForEta = minimumForEta ?? TimeSpan.FromSeconds(3);
    }

    public TimeSpan Window { get; }

    public TimeSpan MinimumForEta { get; }

    /// <summary>Records the bytes done at a moment (moments must not go back).</summary>
    public void Add(TimeSpan at, long bytesDone)
    {
        if (_samples.Count > 0 && at - _last.At < MinimumGap)
        {
            return;
        }

        _last = (at, bytesDone);
        _samples.Enqueue(_last);
        // Keep one sample at or before the window's start, so the window spans all of it once it can.
        while (_samples.Count > 2 && at - ElementAfterFirst().At >= Window)
        {
            _samples.Dequeue();
        }
    }

    /// <summary>Bytes per second over the window; null until it spans a second.</summary>
    public double? BytesPerSecond
    {
        get
        {
            if (!TrySpan(out var span, out long moved) || span < MinimumForRate)
            {
                return null;
            }

            return moved / span.TotalSeconds;
        }
    }

    /// <summary>
    /// The time left at the window's rate; null without a known total, before <see cref="MinimumForEta"/>
    /// of samples, or when nothing moved in the window (a stalled restore has no honest ETA).
    /// </summary>
    public TimeSpan? Eta(long bytesTotal)
    {
        if (bytesTotal <= 0 || !TrySpan(out var span, out long moved) || span < MinimumForEta || moved <= 0)
        {
            return null;
        }

        long left = Math.Max(0, bytesTotal - _last.Bytes);
        return TimeSpan.FromSeconds(Math.Round(left / (moved / span.TotalSeconds)));
    }

    private bool TrySpan(out TimeSpan span, out long moved)
    {
        if (_samples.Count < 2)
        {
            span = TimeSpan.Zero;
            moved = 0;
            return false;
        }

        var first = _samples.Peek();
        span = _last.At - first.At;
        moved = _last.Bytes - first.Bytes;
        return span > TimeSpan.Zero;
    }

    private (TimeSpan At, long Bytes) ElementAfterFirst()
    {
        using var e = _samples.GetEnumerator();
        e.MoveNext();
        e.MoveNext();
        return e.Current;
    }
}
