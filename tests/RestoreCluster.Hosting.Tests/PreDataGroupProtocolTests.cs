using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;
using static RestoreCluster.Hosting.Tests.CoordinatorProtocolTests;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// A pre-data group at the grains, driven by hand in an in-process cluster (the test plays the workers): after the
/// prefork's first step, the group's tables are leased as entries to several workers at once and nothing else is;
/// the next serial step waits for all of them; -v names each table as pg_restore's leader does ("processing item"),
/// with no "launching item"; --serial-pre-data keeps all of pre-data in one serial batch.
/// </summary>
[Collection(InProcessMeters.Name)]
public sealed class PreDataGroupProtocolTests : IAsyncLifetime, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-predata-protocol-");
    private EmbeddedCluster? _cluster;
    private string _archive = "";

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        string source = await server.CreateDatabaseAsync("predata_protocol_src");
        try
        {
            // Six plain tables in a row (a group at -j 2), then a comment on the last (the next serial step: a comment follows its table).
            (await server.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.LibpqConnectionString(source), "-c", """
                CREATE TABLE public.t1 (id integer); CREATE TABLE public.t2 (id integer); CREATE TABLE public.t3 (id integer);
                CREATE TABLE public.t4 (id integer); CREATE TABLE public.t5 (id integer); CREATE TABLE public.t6 (id integer);
                INSERT INTO public.t1 VALUES (1);
                COMMENT ON TABLE public.t6 IS 'six';
                """])).EnsureSuccess();
            _archive = Path.Combine(_directory.FullName, "predata.dump");
            (await server.RunToolAsync("pg_dump", ["--no-sync", "-Fc", "-f", _archive, "-d", server.LibpqConnectionString(source)])).EnsureSuccess();
        }
        finally
        {
            await server.DropDatabaseAsync(source);
        }

        _cluster = await EmbeddedCluster.StartAsync(new TelemetryOptions(null, false));
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task AGroupsTablesGoToSeveralWorkersAndTheNextSerialStepWaitsForAllOfThem()
    {
        var coordinator = await StartAsync(serial: false);
        var start = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        Assert.Equal(UnitKind.Prefork, start.Kind);
        Assert.DoesNotContain(start.EntryIds, id => Tables.ContainsKey(id));
        await coordinator.Complete([Done(start)]);

        // Two workers hold tables of the group at once; a third takes the rest; then nothing else is ready.
        var a = await coordinator.Lease("a", 8, TimeSpan.Zero);
        var b = await coordinator.Lease("b", 8, TimeSpan.Zero);
        Assert.NotEmpty(a);
        Assert.NotEmpty(b);
        var group = a.Concat(b).ToList();
        while (await coordinator.Lease("c", 8, TimeSpan.Zero) is { Count: > 0 } more)
        {
            group.AddRange(more);
        }

        Assert.All(group, l => Assert.Equal(UnitKind.Entry, l.Kind));
        Assert.Equal(["t1", "t2", "t3", "t4", "t5", "t6"], group.Select(l => Tables[l.UnitId]).Order(StringComparer.Ordinal));
        Assert.Empty(await coordinator.Lease("d", 8, TimeSpan.Zero));

        // The barrier: the comment's serial step comes only after the last table.
        await coordinator.Complete([.. group.Skip(1).Select(Done)]);
        Assert.Empty(await coordinator.Lease("d", 8, TimeSpan.Zero));
        await coordinator.Complete([Done(group[0]) with { CreatedTables = [group[0].UnitId] }]);
        var step = Assert.Single(await coordinator.Lease("d", 8, TimeSpan.Zero));
        Assert.Equal(UnitKind.PreforkStep, step.Kind);
        Assert.Equal(RestoreCluster.Planning.RestoreSchedule.PreforkUnitId, step.UnitId);
        Assert.Contains(step.EntryIds, id => Comments.Contains(id));

        // -v: "processing item" for each table of the group, as pg_restore's leader prints it; no "launching item".
        var lines = (await coordinator.WaitStatus(-1, 0, TimeSpan.Zero)).ErrorMessages.Where(VerboseMessages.IsMarked).Select(VerboseMessages.Unmark).ToList();
        Assert.Equal(6, lines.Count(l => l.StartsWith("processing item ", StringComparison.Ordinal) && l.Contains(" TABLE t", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("launching item ", StringComparison.Ordinal) || l.StartsWith("finished item ", StringComparison.Ordinal));
        Assert.DoesNotContain(VerboseMessages.EnteringMainLoop, lines);
    }

    [Fact]
    public async Task WithSerialPreDataThePreforkIsOneSerialBatchOfEveryTable()
    {
        var coordinator = await StartAsync(serial: true);
        var start = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));

        Assert.Equal(UnitKind.Prefork, start.Kind);
        Assert.All(Tables.Keys, id => Assert.Contains(id, start.EntryIds));
        Assert.Empty(await coordinator.Lease("b", 8, TimeSpan.Zero));
    }

    private Dictionary<int, string> Tables
    {
        get
        {
            using var archive = Archive.PgArchive.Open(_archive);
            return archive.Entries.Where(e => e.Desc == "TABLE").ToDictionary(e => e.DumpId, e => e.Tag);
        }
    }

    private List<int> Comments
    {
        get
        {
            using var archive = Archive.PgArchive.Open(_archive);
            return [.. archive.Entries.Where(e => e.Desc == "COMMENT").Select(e => e.DumpId)];
        }
    }

    private async Task<ICoordinatorGrain> StartAsync(bool serial)
    {
        string jobId = $"predata-{Guid.NewGuid():N}";
        // The target is never connected to: no worker grain joins this job.
        var spec = new JobSpec(
            jobId, _archive, new Dictionary<string, string> { ["host"] = "127.0.0.1", ["dbname"] = "unused" },
            new RestoreOptions { Verbose = true, SerialPreData = serial }.ToJobOptions(), Order: null, Jobs: 2, HostBudget: 2, Resume: false, HostKey: jobId);
        var coordinator = _cluster!.Grains.GetGrain<ICoordinatorGrain>(jobId);
        Assert.Equal(JobState.Running, (await coordinator.Start(spec)).State);
        return coordinator;
    }
}
