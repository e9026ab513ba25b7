using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// Which CONSTRAINT entries of an archive are restored as an index build and an attach
/// (<see cref="KeyConstraint"/>), in one definition for the planner (their locks) and the units (their
/// statements): both compute it from the same TOC order. Only parallel restores through the grains use it,
/// and only when <c>--no-keys-as-indexes</c> is not given.
/// </summary>
public sealed class KeyPlan
{
    private readonly Dictionary<int, KeyConstraint> _split;

    private KeyPlan(Dictionary<int, KeyConstraint> split) => _split = split;

    /// <summary>No entry is split (the switch is off, or a serial restore).</summary>
    public static KeyPlan None { get; } = new([]);

    /// <summary>How many entries are split.</summary>
    public int Count => _split.Count;

    /// <summary>
    /// The CONSTRAINT entries of <paramref name="order"/> whose definition <see cref="KeyConstraint.TryParse"/>
    /// reads, on a table that is in the TOC and not partitioned (ADD CONSTRAINT ... USING INDEX is not supported
    /// on partitioned tables; a table not in the TOC cannot be checked, so its keys run as written).
    /// </summary>
    public static KeyPlan For(IReadOnlyList<TocEntry> order)
    {
        ArgumentNullException.ThrowIfNull(order);
        Dictionary<int, TocEntry>? tables = null;
        var split = new Dictionary<int, KeyConstraint>();
        foreach (var te in order)
        {
            if (te.Desc != "CONSTRAINT" || te.Section != ArchiveSection.PostData || KeyConstraint.TryParse(te.Defn) is not { } key)
            {
                continue;
            }

            tables ??= order.Where(e => e.Desc == "TABLE").ToDictionary(e => e.DumpId);
            var table = te.Dependencies.Select(d => tables.GetValueOrDefault(d)).FirstOrDefault(t => t is not null);
            if (table is not null && !KeyConstraint.IsPartitionedTable(table.Defn))
            {
                split[te.DumpId] = key;
            }
        }

        return new KeyPlan(split);
    }

    /// <summary>The two statements of an entry restored as index and attach, or null when it runs as written.</summary>
    public KeyConstraint? Of(int dumpId) => _split.GetValueOrDefault(dumpId);
}
