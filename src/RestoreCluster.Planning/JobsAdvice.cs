using System.Globalization;

namespace RestoreCluster.Planning;

/// <summary>
/// One trial restore of <c>tune</c>: its <c>-j</c>, its wall time, whether it finished (a failed or cancelled
/// run is shown but never recommended), and what its sessions did, as shares of the sampled session time
/// keyed <c>CPU</c> (active, no wait event) or <c>Type:Event</c> (pg_stat_activity's wait event).
/// </summary>
public sealed record TrialRun(int Jobs, double WallSeconds, bool Finished, IReadOnlyDictionary<string, double> WaitShares);

/// <summary><c>tune</c>'s advice: the <c>-j</c> and host budget to use (null when no run finished), and why, in one line.</summary>
public sealed record JobsAdvice(int? Jobs, int? HostBudget, string Reason)
{
    /// <summary>How much slower than the fastest run a run with fewer jobs may be and still be preferred.</summary>
    public const double Tolerance = 0.05;

    /// <summary>The key of session time with no wait event: the server working for the session.</summary>
    public const string Cpu = "CPU";

    /// <summary>
    /// The fewest jobs within <see cref="Tolerance"/> of the fastest finished run: past that point more sessions
    /// only take the server's resources from others. The host budget is the same number: a budget lower than
    /// <c>-j</c> idles slots, a higher one lets more sessions at the server than helped. The reason names what
    /// the runs above the choice waited on most, the evidence that more jobs would not pay.
    /// </summary>
    public static JobsAdvice Recommend(IReadOnlyList<TrialRun> runs)
    {
        var finished = runs.Where(r => r.Finished && r.WallSeconds > 0).ToList();
        if (finished.Count == 0)
        {
            return new JobsAdvice(null, null, "no trial restore finished: nothing to recommend");
        }

        var fastest = finished.OrderBy(r => r.WallSeconds).ThenBy(r => r.Jobs).First();
        var chosen = finished.Where(r => r.WallSeconds <= fastest.WallSeconds * (1 + Tolerance)).OrderBy(r => r.Jobs).First();
        var above = finished.Where(r => r.Jobs > chosen.Jobs).ToList();
        var c = CultureInfo.InvariantCulture;
        string standing = chosen.Jobs == fastest.Jobs
            ? string.Format(c, "{0} {1} was the fastest ({2:0.0} s)", chosen.Jobs, Plural(chosen.Jobs), fastest.WallSeconds)
            : string.Format(c, "{0} is within {1:0}% of the fastest ({2} jobs, {3:0.0} s)", chosen.Jobs, Tolerance * 100, fastest.Jobs, fastest.WallSeconds);
        if (above.Count == 0)
        {
            string reason = finished.Count == 1
                ? string.Format(c, "{0} {1}, the only -j that finished, took {2:0.0} s", chosen.Jobs, Plural(chosen.Jobs), chosen.WallSeconds)
                : standing + ", and it was the most jobs tried: more may be faster still";
            return new JobsAdvice(chosen.Jobs, chosen.Jobs, reason);
        }

        var (key, share) = TopWait(above);
        string waits = key == Cpu
            ? string.Format(c, "above {0} {1}, {2:0}% of session time is the server's CPU", chosen.Jobs, Plural(chosen.Jobs), share * 100)
            : string.Format(c, "above {0} {1}, {2:0}% of session time waits on {3}", chosen.Jobs, Plural(chosen.Jobs), share * 100, EventName(key));
        return new JobsAdvice(chosen.Jobs, chosen.Jobs, $"{waits}; {standing}");
    }

    /// <summary>The wait that took most of the runs' session time (averaged over runs), CPU only when nothing waited.</summary>
    public static (string Key, double Share) TopWait(IReadOnlyList<TrialRun> runs)
    {
        var totals = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var run in runs)
        {
            foreach (var (key, share) in run.WaitShares)
            {
                totals[key] = totals.GetValueOrDefault(key) + share / runs.Count;
            }
        }

        var waits = totals.Where(kv => kv.Key != Cpu && kv.Value > 0).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        return waits.Count > 0 ? (waits[0].Key, waits[0].Value) : (Cpu, totals.GetValueOrDefault(Cpu));
    }

    /// <summary>A wait key's event alone (<c>IO:DataFileWrite</c> → <c>DataFileWrite</c>).</summary>
    public static string EventName(string key) => key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static string Plural(int jobs) => jobs == 1 ? "job" : "jobs";
}
