using Xunit;
using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Planning.Tests;

/// <summary>Builds synthetic TOCs in memory (TocEntry's internal constructor) and plans for them.</summary>
internal sealed class TocBuilder
{
    private readonly List<TocEntry> _entries = [];
    private readonly Dictionary<int, RestoreParts> _parts = [];

    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    public IReadOnlyList<TocEntry> Entries => _entries;

    public TocBuilder Add(int id, string desc, ArchiveSection section, params int[] deps)
        => Add(id, desc, section, dataLength: 0, tag: $"e{id}", deps);

    public TocBuilder Data(int id, string tag, long dataLength, int table)
        => Add(id, "TABLE DATA", ArchiveSection.Data, dataLength, tag, table);

    public TocBuilder Add(int id, string desc, ArchiveSection section, long dataLength, string tag, params int[] deps)
    {
        var raw = new byte[]?[Enum.GetValues<TocField>().Length];
        _entries.Add(new TocEntry(raw)
        {
            Index = _entries.Count,
            DumpId = id,
            HadDumper = desc == "TABLE DATA",
            Desc = desc,
            Tag = tag,
            Section = section,
            Defn = desc == "TABLE DATA" ? null : $"-- {desc} {tag}",
            CopyStmt = desc == "TABLE DATA" ? $"COPY public.{tag} (a) FROM stdin;\n" : null,
            Dependencies = deps,
            DataLength = dataLength,
        });
        _parts[id] = desc == "TABLE DATA" ? RestoreParts.Data : RestoreParts.Schema;
        return this;
    }

    /// <summary>Gives an entry a definition of its own (a CONSTRAINT's ALTER TABLE, a TABLE's CREATE TABLE).</summary>
    public TocBuilder Defn(int id, string defn)
    {
        _entries.Single(e => e.DumpId == id).Defn = defn;
        return this;
    }

    public TocBuilder Skip(int id)
    {
        _parts[id] = RestoreParts.None;
        return this;
    }

    public RestorePlan Plan(TableSplit? split = null, bool analyze = false, PreDataGroups? groups = null) =>
        RestorePlan.Build(_entries, _parts, split: split, analyze: analyze, groups: groups);

    /// <summary>The plan with keys built as indexes first and foreign keys added NOT VALID (the default of a parallel restore).</summary>
    public RestorePlan PlanWithKeys() => RestorePlan.Build(_entries, _parts, KeyPlan.For(_entries, keysAsIndexes: true, foreignKeysNotValid: true));

    public RestoreSchedule Schedule(TableSplit? split = null, bool analyze = false) => new(Plan(split, analyze));

    public IReadOnlyDictionary<int, RestoreParts> Parts => _parts;

    public IReadOnlyDictionary<int, RestoreParts> SelectedParts => _parts;

    /// <summary>The last entry added loads with INSERT statements (a --inserts dump): no COPY statement.</summary>
    public TocBuilder Inserts()
    {
        _entries[^1].CopyStmt = null;
        return this;
    }

    /// <summary>Restores only the data of an entry (as -a does a table's TABLE DATA, leaving the TABLE out).</summary>
    public TocBuilder WithParts(int id, RestoreParts parts)
    {
        _parts[id] = parts;
        return this;
    }
}

internal static class ScheduleExtensions
{
    /// <summary>Leases and completes the prefork batch, if there is one.</summary>
    public static void RunPrefork(this RestoreSchedule s, IReadOnlyDictionary<int, UnitStatus>? statuses = null)
    {
        if (s.Phase != SchedulePhase.Prefork || s.CurrentGroup >= 0)
        {
            return;
        }

        var lease = s.Lease("leader", TocBuilder.T0, TocBuilder.Ttl)!;
        Assert.Equal(WorkKind.Prefork, lease.Kind);
        Assert.Equal(CompletionResult.Accepted, s.Complete(lease.UnitId, lease.LeaseId, UnitStatus.Ok, statuses));
    }

    public static WorkLease LeaseOne(this RestoreSchedule s, string worker = "w1")
        => s.Lease(worker, TocBuilder.T0, TocBuilder.Ttl) ?? throw new Xunit.Sdk.XunitException("nothing to lease");

    public static void Done(this RestoreSchedule s, WorkLease lease, UnitStatus status = UnitStatus.Ok)
        => Assert.Equal(CompletionResult.Accepted, s.Complete(lease.UnitId, lease.LeaseId, status));

    /// <summary>Runs the schedule to the end with one worker, returning unit IDs in lease order.</summary>
    public static List<int> DrainSerially(this RestoreSchedule s)
    {
        var order = new List<int>();
        while (!s.IsFinished)
        {
            var lease = s.LeaseOne();
            if (lease.Kind is not (WorkKind.Prefork or WorkKind.PreforkStep))
            {
                order.Add(lease.UnitId);
            }

            s.Done(lease);
        }

        return order;
    }
}
