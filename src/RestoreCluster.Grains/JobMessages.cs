using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>
/// A job's messages for its status, in the order they came, each with a sequence number; a reader asks for
/// the messages from a number on and is told the number to ask from next. Two kinds, bounded apart, so that
/// one never crowds out the other:
/// <list type="bullet">
/// <item>errors and warnings: the first <see cref="ProblemsKept"/> are kept for the job's life, every one
/// is counted (<see cref="Problems"/>);</item>
/// <item>-v lines (marked, <see cref="VerboseMessages"/>): kept only until a reader has taken them (asked
/// from a later number), at most <see cref="VerboseKept"/> waiting at once; any more are counted in
/// <see cref="VerboseDropped"/>, never silently lost, and never count as errors.</item>
/// </list>
/// </summary>
internal sealed class JobMessages
{
    /// <summary>Errors and warnings kept (the count is always exact).</summary>
    public const int ProblemsKept = 10_000;

    /// <summary>-v lines waiting for a reader at most.</summary>
    public const int VerboseKept = 100_000;

    private readonly List<Kept> _kept = [];
    private int _next;
    private int _problemsKept;
    private int _verboseWaiting;

    /// <summary>Errors and warnings counted, kept or not.</summary>
    public int Problems { get; private set; }

    /// <summary>-v lines that found no room (no reader took the ones before them in time).</summary>
    public int VerboseDropped { get; private set; }

    /// <summary>The sequence number the next message kept will get.</summary>
    public int Next => _next;

    /// <summary>Adds one message; false when it was not kept.</summary>
    public bool Add(string message)
    {
        bool verbose = VerboseMessages.IsMarked(message);
        if (verbose)
        {
            if (_verboseWaiting >= VerboseKept)
            {
                VerboseDropped++;
                return false;
            }

            _verboseWaiting++;
        }
        else
        {
            Problems++;
            if (_problemsKept >= ProblemsKept)
            {
                return false;
            }

            _problemsKept++;
        }

        _kept.Add(new Kept(_next++, message, verbose));
        return true;
    }

    /// <summary>A reader has every message before <paramref name="from"/>: the -v lines among them go.</summary>
    public void Taken(int from)
    {
        if (_verboseWaiting == 0 || _kept.Count == 0 || _kept[0].Seq >= from)
        {
            return;
        }

        _verboseWaiting -= _kept.RemoveAll(k => k.Verbose && k.Seq < from);
    }

    /// <summary>The kept messages numbered <paramref name="from"/> and later.</summary>
    public IReadOnlyList<string> From(int from)
    {
        int lo = 0, hi = _kept.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_kept[mid].Seq < from)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return _kept.GetRange(lo, _kept.Count - lo).ConvertAll(k => k.Text);
    }

    private readonly record struct Kept(int Seq, string Text, bool Verbose);
}
