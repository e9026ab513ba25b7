using System.Globalization;

namespace RestoreCluster.Planning;

/// <summary>
/// What one window of an adaptive host budget saw: the probe's p95 latency (null without a probe, or when no probe
/// answered in the window), units finished per second, and slots waiting for a permit at the window's end.
/// </summary>
public sealed record BudgetWindow(double? ProbeP95Ms, double UnitsPerSecond, int Waiting);

/// <summary>Latency percentiles as the adaptive budget and its benchmark compute them.</summary>
public static class Latencies
{
    /// <summary>The 95th percentile by nearest rank (the smallest value at or above 95% of them), or null for none.</summary>
    public static double? P95(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? null : sorted[Math.Max(0, (int)Math.Ceiling(sorted.Count * 0.95) - 1)];
    }
}

/// <summary>
/// The controller of an adaptive host budget (<c>--host-budget auto[:MAX]</c>, <c>--protect MS</c>; docs/concurrency.md).
/// The budget counts our sessions on the server; with a probe (<paramref name="protectMs"/> given) the probe's own
/// session is one of them, so units get one permit less, and a budget of 1 pauses the units (only the probe runs).
/// Each window it either halves the budget (the probe's p95 went over <paramref name="protectMs"/>), or raises it by
/// one (slots are waiting, the budget is under <paramref name="max"/>, the probe is under its limit, and throughput
/// did not fall since the last raise), or holds; with a probe, a window without an answer from it holds. A pause lasts at most <see cref="MostPausedWindows"/> windows: then
/// one unit goes on even if the probe is still slow, so the restore always finishes.
/// </summary>
public sealed class AdaptiveBudget
{
    /// <summary>
    /// The probe's query unless <c>--probe-sql</c> gives one: a transaction that writes one commit record to the WAL.
    /// A COPY slows a live server's writers (most likely through the WAL it fills), and a read such as <c>SELECT 1</c>
    /// does not see it: beside a COPY it stayed as fast as on the quiet server while this one's p95 nearly doubled
    /// (performance.md, "Seventh session"). <c>txid_current()</c> is in every PostgreSQL version from 8.2 on; it uses one transaction
    /// id per answer (ten a second).
    /// </summary>
    public const string DefaultProbeSql = "SELECT txid_current()";

    /// <summary>Windows a pause lasts at most.</summary>
    public const int MostPausedWindows = 5;

    // Throughput after a raise may fall this much (noise) and still count as "did not fall".
    private const double Noise = 0.9;

    private readonly int _max;
    private readonly double? _protectMs;
    private int _paused;
    private double? _beforeRaise;

    public AdaptiveBudget(int max, double? protectMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, protectMs is null ? 1 : 2);
        _max = max;
        _protectMs = protectMs;
        // One unit to start with (beside the probe, which has a session of its own).
        Budget = Probed ? 2 : 1;
    }

    /// <summary>Our sessions on the server, the probe's included: from 1 to the maximum.</summary>
    public int Budget { get; private set; }

    /// <summary>Whether a probe runs (and holds one of the budget's sessions).</summary>
    public bool Probed => _protectMs is not null;

    /// <summary>Permits for units: the budget less the probe's session (0: paused).</summary>
    public int UnitPermits => Budget - (Probed ? 1 : 0);

    /// <summary>The reason of the last change.</summary>
    public string Reason { get; private set; } = "";

    /// <summary>One window's decision: the reason of a change, or null when the budget holds.</summary>
    public string? Next(BudgetWindow w)
    {
        var c = CultureInfo.InvariantCulture;
        int before = Budget;
        if (_protectMs is { } limit && w.ProbeP95Ms is { } p95 && p95 > limit)
        {
            if (Budget > 1 && UnitPermits > 0)
            {
                Budget = Math.Max(1, Budget / 2);
                _beforeRaise = null;
                _paused = 0;
                return Changed(string.Format(c, "probe p95 {0:0.#} ms over {1:0.#} ms: halved from {2} to {3}{4}", p95, limit, before, Budget, PausedNote()));
            }

            if (UnitPermits == 0 && ++_paused >= MostPausedWindows)
            {
                _paused = 0;
                Budget = 2;
                return Changed(string.Format(c, "paused {0} windows with the probe still over {1:0.#} ms: one unit goes on", MostPausedWindows, limit));
            }

            return null;
        }

        if (Probed && w.ProbeP95Ms is null)
        {
            // No probe answered in the window (it just started): nothing to judge the server by yet.
            return null;
        }

        if (UnitPermits == 0)
        {
            _paused = 0;
            Budget = 2;
            return Changed(string.Format(c, "probe p95 {0} under {1:0.#} ms again: one unit goes on", Ms(w.ProbeP95Ms), _protectMs));
        }

        if (w.Waiting > 0 && Budget < _max && (_beforeRaise is not { } previous || w.UnitsPerSecond >= previous * Noise))
        {
            _beforeRaise = w.UnitsPerSecond;
            Budget++;
            string probe = Probed ? string.Format(c, ", probe p95 {0} under {1:0.#} ms", Ms(w.ProbeP95Ms), _protectMs) : "";
            return Changed(string.Format(c, "{0} slot{1} waiting, throughput {2:0.##} units/s{3}: raised from {4} to {5}",
                w.Waiting, w.Waiting == 1 ? "" : "s", w.UnitsPerSecond, probe, before, Budget));
        }

        return null;
    }

    private string PausedNote() => UnitPermits == 0 ? " (units pause: only the probe runs)" : "";

    private static string Ms(double? ms) => ms is { } v ? v.ToString("0.#", CultureInfo.InvariantCulture) + " ms" : "(none)";

    private string Changed(string reason)
    {
        Reason = reason;
        return reason;
    }
}
