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
            Dependencies = deps,
            DataLength = dataLength,
        });
        _parts[id] = desc == "TABLE DATA" ? RestoreParts.Data : RestoreParts.Schema;
        return this;
    }

    public TocBuilder Skip(int id)
    {
        _parts[id] = RestoreParts.None;
        return this;
    }

    public RestorePlan Plan(bool analyze = false) => RestorePlan.Build(_entries, _parts, analyze);

    public RestoreSchedule Schedule(bool analyze = false) => new(Plan(analyze));

    public IReadOnlyDictionary<int, RestoreParts> SelectedParts => _parts;

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
        if (s.Phase != SchedulePhase.Prefork)
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
        s.RunPrefork();
        while (!s.IsFinished)
        {
            var lease = s.LeaseOne();
            order.Add(lease.UnitId);
            s.Done(lease);
        }

        return order;
    }
}
