using System.Diagnostics;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

/// <summary>
/// The pace a session's COPYs keep (<see cref="CopyPacer"/>): <see cref="Pace"/> is set from another thread (the slot's
/// loop, from its host budget), and the COPY rests between its blocks of data so that it works that share of the
/// time. A COPY paced below 1 rests in slices of 20 ms, and stops resting after the slice in which the unit is cancelled.
/// <see cref="TakeHeldBack"/> gives the rests taken, for the log.
/// </summary>
public sealed class CopyPace
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(20);

    private readonly PaceDebt _debt = new();
    private double _pace = 1;
    private long _workStarted;
    private long _heldBackTicks;

    /// <summary>The share of the time a COPY may work, from <see cref="CopyPacer.Slowest"/> to 1 (full speed).</summary>
    public double Pace
    {
        get => Volatile.Read(ref _pace);
        set => Volatile.Write(ref _pace, Math.Clamp(value, CopyPacer.Slowest, 1));
    }

    /// <summary>The rests taken since the last call, which starts the count again from zero.</summary>
    public TimeSpan TakeHeldBack() => TimeSpan.FromTicks(Interlocked.Exchange(ref _heldBackTicks, 0));

    /// <summary>A COPY starts: its work is counted from now, and nothing is owed.</summary>
    internal void Start()
    {
        _debt.Clear();
        _workStarted = Stopwatch.GetTimestamp();
    }

    /// <summary>A block was sent: rests what the work since the last block owes, unless <paramref name="cancelled"/>.</summary>
    internal void Sent(Func<bool> cancelled)
    {
        var rest = _debt.Worked(Stopwatch.GetElapsedTime(_workStarted), Pace);
        var left = rest;
        while (left > TimeSpan.Zero && !cancelled())
        {
            var nap = left < Slice ? left : Slice;
            Thread.Sleep(nap);
            left -= nap;
        }

        Interlocked.Add(ref _heldBackTicks, (rest - left).Ticks);
        _workStarted = Stopwatch.GetTimestamp();
    }
}
