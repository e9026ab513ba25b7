using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// Which CONSTRAINT entries of an archive are restored in steps instead of pg_dump's one statement: keys as an
/// index build and an attach (<see cref="KeyConstraint"/>), foreign keys as NOT VALID and a validation
/// (<see cref="ForeignKey"/>). One definition for the planner (the keys' locks) and the units (their
/// statements): both compute it from the same TOC order. Only restores through the grains use it, unless
/// <c>--no-keys-as-indexes</c> or <c>--no-fk-not-valid</c> turns a step off.
/// </summary>
public sealed class KeyPlan
{
    private readonly Dictionary<int, KeyConstraint> _keys;
    private readonly Dictionary<int, ForeignKey> _foreignKeys;

    private KeyPlan(Dictionary<int, KeyConstraint> keys, Dictionary<int, ForeignKey> foreignKeys)
    {
        _keys = keys;
        _foreignKeys = foreignKeys;
    }

    /// <summary>Every constraint runs as pg_dump wrote it (the switches are off, or a serial restore).</summary>
    public static KeyPlan None { get; } = new([], []);

    /// <summary>
    /// The CONSTRAINT and FK CONSTRAINT entries (POST_DATA) of <paramref name="order"/> whose definitions
    /// <see cref="KeyConstraint.TryParse"/> or <see cref="ForeignKey.TryParse"/> read, on tables that are in the
    /// TOC and not partitioned: ADD CONSTRAINT ... USING INDEX is not supported on a partitioned table, nor is a
    /// NOT VALID foreign key from one (PostgreSQL 15). A constraint whose table is not in the TOC cannot be
    /// checked, so it runs as written; so does a foreign key that refers to a partitioned table. So does a constraint
    /// whose tables hold no more than <see cref="PlanUnit.SmallBytes"/> of data: its build or scan is short, and
    /// as written it shares a batch's transaction with other small units, where steps would each take a transaction
    /// of their own (on 1,000 small tables, steps made the restore 20% slower).
    /// </summary>
    public static KeyPlan For(IReadOnlyList<TocEntry> order, bool keysAsIndexes, bool foreignKeysNotValid)
    {
        ArgumentNullException.ThrowIfNull(order);
        var keys = new Dictionary<int, KeyConstraint>();
        var foreignKeys = new Dictionary<int, ForeignKey>();
        if (!keysAsIndexes && !foreignKeysNotValid)
        {
            return None;
        }

        Dictionary<int, TocEntry>? byId = null;
        Dictionary<int, long>? dataBytes = null;
        foreach (var te in order)
        {
            if (te.Section != ArchiveSection.PostData)
            {
                continue;
            }

            var key = keysAsIndexes && te.Desc == "CONSTRAINT" ? KeyConstraint.TryParse(te.Defn) : null;
            var foreignKey = foreignKeysNotValid && te.Desc == "FK CONSTRAINT" ? ForeignKey.TryParse(te.Defn) : null;
            if (key is null && foreignKey is null)
            {
                continue;
            }

            byId ??= order.ToDictionary(e => e.DumpId);
            dataBytes ??= order.Where(e => e.Desc == "TABLE DATA" && e.Dependencies.Count > 0)
                .GroupBy(e => e.Dependencies[0]).ToDictionary(g => g.Key, g => g.Sum(e => e.DataLength));
            var tables = TablesOf(te, byId, throughConstraints: foreignKey is not null);
            if (tables.Count == 0 || tables.Any(t => KeyConstraint.IsPartitionedTable(t.Defn))
                || tables.Max(t => dataBytes.GetValueOrDefault(t.DumpId)) <= PlanUnit.SmallBytes)
            {
                continue;
            }

            if (key is not null)
            {
                keys[te.DumpId] = key;
            }
            else
            {
                foreignKeys[te.DumpId] = foreignKey!;
            }
        }

        return new KeyPlan(keys, foreignKeys);
    }

    /// <summary>A key's index build and attach, or null when the entry runs as written.</summary>
    public KeyConstraint? KeyOf(int dumpId) => _keys.GetValueOrDefault(dumpId);

    /// <summary>A foreign key's NOT VALID, validation and drop, or null when the entry runs as written.</summary>
    public ForeignKey? ForeignKeyOf(int dumpId) => _foreignKeys.GetValueOrDefault(dumpId);

    // The TABLE entries a constraint depends on; for a foreign key also the tables of the constraints and indexes it
    // depends on (the referenced key's table). Empty when the constraint's own table is not in the TOC.
    private static List<TocEntry> TablesOf(TocEntry constraint, Dictionary<int, TocEntry> byId, bool throughConstraints)
    {
        var tables = new List<TocEntry>();
        bool own = false;
        foreach (int d in constraint.Dependencies)
        {
            if (!byId.TryGetValue(d, out var dep))
            {
                continue;
            }

            if (dep.Desc == "TABLE")
            {
                tables.Add(dep);
                own = true;
            }
            else if (throughConstraints && dep.Desc is "CONSTRAINT" or "INDEX")
            {
                tables.AddRange(dep.Dependencies.Select(byId.GetValueOrDefault).OfType<TocEntry>().Where(t => t.Desc == "TABLE"));
            }
        }

        return own ? tables : [];
    }
}
