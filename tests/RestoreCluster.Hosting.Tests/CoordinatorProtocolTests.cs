using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The unit protocol at the grains, driven by hand in an in-process cluster (no worker grain joins, so the
/// test plays the workers): waits that end on events, batches, stale and fatal reports, cancel.
/// </summary>
// The grains' meters are process-wide: tests that hold permits must not run while another reads them.
[Collection(InProcessMeters.Name)]
public sealed class CoordinatorProtocolTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-protocol-");
    private readonly CapturedLogs _logs = new();
    private EmbeddedCluster? _cluster;
    private string _archive = "";

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetSharedAsync();
        _archive = await InProcessRestore.MakeArchiveAsync(server, _directory.FullName);
        _cluster = await EmbeddedCluster.StartAsync(new TelemetryOptions(null, false), _logs.AddTo);
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
    public async Task AWaitingLeaseIsGrantedAsSoonAsAUnitIsReady()
    {
        var coordinator = await StartAsync();
        var prefork = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        Assert.Equal(UnitKind.Prefork, prefork.Kind);

        // Nothing else is ready until the serial start is done: b waits inside its call (a fallback of 10 s).
        var waiting = coordinator.Lease("b", 8, Long);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        var sw = Stopwatch.StartNew();
        await coordinator.Complete([Done(prefork)]);
        var leases = await waiting;
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(100), $"leased {sw.Elapsed.TotalMilliseconds:0} ms after the unit became ready");
        Assert.NotEmpty(leases);
        Assert.All(leases, l => Assert.Equal(UnitKind.Entry, l.Kind));
    }

    [Fact]
    public async Task SmallReadyUnitsAreLeasedTogetherAndANotRunBatchGoesBackToReady()
    {
        var coordinator = await StartAsync();
        await coordinator.Complete([Done(Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero)))]);

        // Both tables' data are small and ready: one batch.
        var batch = await coordinator.Lease("a", 8, TimeSpan.Zero);
        Assert.Equal(["TABLE DATA items", "TABLE DATA notes"], Labels(batch));
        Assert.Empty(await coordinator.Lease("b", 8, TimeSpan.Zero));

        // A batch that stopped before its units returns them; they are leased again.
        await coordinator.Complete(batch.Select(l => new UnitReport(l.LeaseId, l.UnitId, 0, [], [], null, 0, 0, [], NotRun: true)).ToList());
        var again = await coordinator.Lease("b", 8, TimeSpan.Zero);
        Assert.Equal(batch.Select(l => l.UnitId).Order(), again.Select(l => l.UnitId).Order());
        Assert.Equal(0, (await coordinator.Status()).Errors);
    }

    [Fact]
    public async Task AReportForALeaseThatIsNotCurrentChangesNothingEvenAFatalOne()
    {
        var coordinator = await StartAsync();
        var prefork = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        await coordinator.Complete([Done(prefork)]);
        var leases = await coordinator.Lease("a", 1, TimeSpan.Zero);
        var unit = Assert.Single(leases);

        var before = await coordinator.Status();
        await coordinator.Complete(
        [
            new UnitReport("not-a-lease", unit.UnitId, 3, [], [], "boom", 0, 0, ["from a stale lease"]),
            Done(prefork) with { Errors = 5 },
        ]);
        Assert.False(await coordinator.Renew(["not-a-lease"]));
        Assert.False(await coordinator.ReportProgress("not-a-lease", 10));

        var after = await coordinator.Status();
        Assert.Equal(JobState.Running, after.State);
        Assert.Equal(before.Errors, after.Errors);
        Assert.Equal(before.UnitsDone, after.UnitsDone);
        Assert.Null(after.Message);
        Assert.Empty(after.ErrorMessages);

        // The current lease still works.
        Assert.True(await coordinator.Renew([unit.LeaseId]));
        Assert.True(await coordinator.ReportProgress(unit.LeaseId, 10));

        // Both ignored reports are in the log, the stale fatal one and the repeated one of a done unit.
        var ignored = _logs.Of<CoordinatorGrain>(105);
        Assert.Contains(ignored, r => r.Level == LogLevel.Information && r.Message.StartsWith("fatal report", StringComparison.Ordinal) && r.Message.EndsWith("its lease is no longer current", StringComparison.Ordinal));
        Assert.Contains(ignored, r => r.Message.Contains(prefork.LeaseId, StringComparison.Ordinal) && r.Message.EndsWith("the unit is already done", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACancelledJobStopsRenewalsProgressAndWaits()
    {
        var coordinator = await StartAsync();
        var prefork = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        var waiting = coordinator.Lease("b", 8, Long);
        var news = coordinator.WaitStatus((await coordinator.Status()).News, 0, Long);

        var sw = Stopwatch.StartNew();
        await coordinator.Cancel();
        Assert.Empty(await waiting);
        Assert.Equal(JobState.Cancelled, (await news).State);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"the waits ended {sw.Elapsed.TotalMilliseconds:0} ms after the cancel");

        // The running unit is told to stop: neither its renewal nor its progress report is accepted.
        Assert.False(await coordinator.Renew([prefork.LeaseId]));
        Assert.False(await coordinator.ReportProgress(prefork.LeaseId, 0));
    }

    [Fact]
    public async Task AWaitingAcquireGetsThePermitAsSoonAsOneIsReleased()
    {
        var budget = _cluster!.Grains.GetGrain<IHostBudgetGrain>($"protocol-{Guid.NewGuid():N}");
        await budget.SetBudget(1);
        var first = await budget.Acquire("a", TimeSpan.FromSeconds(30), TimeSpan.Zero);
        Assert.NotNull(first);
        Assert.Null(await budget.Acquire("b", TimeSpan.FromSeconds(30), TimeSpan.Zero));

        var waiting = budget.Acquire("b", TimeSpan.FromSeconds(30), Long);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        var sw = Stopwatch.StartNew();
        await budget.Release(first.PermitId);
        var second = await waiting;
        Assert.NotNull(second);
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(100), $"granted {sw.Elapsed.TotalMilliseconds:0} ms after the release");
        Assert.Equal(1, (await budget.Status()).InFlight);

        // Handed back, so the process-wide in-flight meter other tests read is 0 for this host again.
        await budget.Release(second.PermitId);
        Assert.Equal(0, (await budget.Status()).InFlight);
    }

    [Fact]
    public async Task ErrorsKeptToTheLimitDoNotCrowdOutVerboseLinesWhichAreHandedOutOnce()
    {
        var coordinator = await StartAsync(verbose: true);
        var prefork = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        var errors = Enumerable.Range(1, CoordinatorGrain.MessagesKept + 1).Select(i => $"error {i}").ToList();
        await coordinator.Complete([Done(prefork) with { Errors = errors.Count, ErrorMessages = [.. errors, VerboseMessages.Mark("processing item 1 TABLE t")] }]);

        var status = await coordinator.WaitStatus(-1, 0, TimeSpan.Zero);
        Assert.Equal(errors.Count, status.MessageCount);
        Assert.Equal(errors.Take(CoordinatorGrain.MessagesKept), status.ErrorMessages.Where(m => !VerboseMessages.IsMarked(m)));
        // The error limit is reached, yet the -v lines come: the prefork batch's, then the loop's start.
        Assert.Equal(
            [VerboseMessages.Mark("processing item 1 TABLE t"), VerboseMessages.Mark(VerboseMessages.EnteringMainLoop)],
            status.ErrorMessages.Where(VerboseMessages.IsMarked));

        // A reader that asks past them has them: they are forgotten; the errors stay for any reader.
        var later = await coordinator.WaitStatus(status.News, status.MessagesNext, TimeSpan.Zero);
        Assert.Empty(later.ErrorMessages);
        var fromStart = await coordinator.Status();
        Assert.Equal(CoordinatorGrain.MessagesKept, fromStart.ErrorMessages.Count);
        Assert.DoesNotContain(fromStart.ErrorMessages, VerboseMessages.IsMarked);
        Assert.Equal(0, fromStart.VerboseDropped);
    }

    [Fact]
    public async Task VerboseLinesNobodyReadsAreBoundedAndNeverCrowdOutAnError()
    {
        var coordinator = await StartAsync(verbose: true);
        var prefork = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        var flood = Enumerable.Range(1, 100_010).Select(i => VerboseMessages.Mark($"creating TABLE \"public.t{i}\"")).ToList();
        await coordinator.Complete([Done(prefork) with { Errors = 1, ErrorMessages = [.. flood, "from TOC entry 1; the one error"] }]);

        var status = await coordinator.Status();
        Assert.Equal(1, status.MessageCount);
        Assert.Equal("from TOC entry 1; the one error", Assert.Single(status.ErrorMessages, m => !VerboseMessages.IsMarked(m)));
        // What did not fit is counted, not lost without a word: 100,000 lines wait at most.
        Assert.Equal(100_000, status.ErrorMessages.Count(VerboseMessages.IsMarked));
        Assert.Equal(flood.Count + 1 - 100_000, status.VerboseDropped);
    }

    [Fact]
    public async Task ASlotWaitingInsideAcquireCountsAsWaitingForAsLongAsItWaits()
    {
        var budget = _cluster!.Grains.GetGrain<IHostBudgetGrain>($"protocol-{Guid.NewGuid():N}");
        await budget.SetBudget(1);
        var first = await budget.Acquire("slot/0", TimeSpan.FromSeconds(30), TimeSpan.Zero);
        Assert.NotNull(first);

        // The second slot waits inside its call: waiting, however long it has waited (past 2 s here).
        var waiting = budget.Acquire("slot/1", TimeSpan.FromSeconds(30), Long);
        await Task.Delay(300);
        Assert.Equal(1, (await budget.Status()).Waiting);
        await Task.Delay(2500);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, (await budget.Status()).Waiting);

        await budget.Release(first.PermitId);
        var second = await waiting;
        Assert.NotNull(second);
        Assert.Equal(new HostStatus(budget.GetPrimaryKeyString(), 1, 1, 0), await budget.Status());

        // A wait that ends without a permit is no longer waiting either; a refused call that does not wait never was.
        Assert.Null(await budget.Acquire("slot/2", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)));
        Assert.Null(await budget.Acquire("slot/3", TimeSpan.FromSeconds(30), TimeSpan.Zero));
        Assert.Equal(0, (await budget.Status()).Waiting);

        await budget.Release(second.PermitId);
        Assert.Equal(0, (await budget.Status()).InFlight);
    }

    [Fact]
    public async Task ALapsedPermitCannotBeRenewed()
    {
        var budget = _cluster!.Grains.GetGrain<IHostBudgetGrain>($"protocol-{Guid.NewGuid():N}");
        await budget.SetBudget(1);
        var permit = await budget.Acquire("slot/0", TimeSpan.FromMilliseconds(200), TimeSpan.Zero);
        Assert.NotNull(permit);
        Assert.True(await budget.Renew(permit.PermitId, TimeSpan.FromMilliseconds(200)));

        // Nobody asked for the budget meanwhile, so nothing took the lapsed permit away: it is refused all the same.
        await Task.Delay(400);
        Assert.False(await budget.Renew(permit.PermitId, TimeSpan.FromSeconds(30)));
        Assert.Equal(0, (await budget.Status()).InFlight);
    }

    [Fact]
    public async Task OnlyAUnitsFirstLeaseInAJobThatResumesNothingSkipsTheTruncate()
    {
        var timings = new JobTimings(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300));
        var coordinator = await StartAsync(timings: timings);
        var first = await CreateTablesAndLeaseDataAsync(coordinator);
        Assert.All(first, l => Assert.True(l.TruncateFirst && l.FirstRun, $"unit {l.UnitId}: a first lease"));

        // The leases lapse: the runs that held them may have rolled rows back into the tables.
        await Task.Delay(600);
        var again = await coordinator.Lease("b", 8, Long);
        Assert.Equal(first.Select(l => l.UnitId).Order(), again.Select(l => l.UnitId).Order());
        Assert.All(again, l => Assert.True(l.TruncateFirst && !l.FirstRun, $"unit {l.UnitId}: leased again"));

        // A job that resumes another run's journal never knows what that run left in a table.
        var resumed = await CreateTablesAndLeaseDataAsync(await StartAsync(resume: true));
        Assert.All(resumed, l => Assert.True(l.TruncateFirst && !l.FirstRun, $"unit {l.UnitId}: --resume"));
    }

    // Completes the prefork batch as having created both tables; their data units are then leased together.
    private async Task<IReadOnlyList<UnitLease>> CreateTablesAndLeaseDataAsync(ICoordinatorGrain coordinator)
    {
        using var archive = Archive.PgArchive.Open(_archive);
        var tables = archive.Entries.Where(e => e.Desc == "TABLE").Select(e => e.DumpId).ToList();
        var prefork = Assert.Single(await coordinator.Lease("a", 8, TimeSpan.Zero));
        await coordinator.Complete([Done(prefork) with { CreatedTables = tables }]);
        var leases = await coordinator.Lease("a", 8, TimeSpan.Zero);
        Assert.Equal(["TABLE DATA items", "TABLE DATA notes"], Labels(leases));
        return leases;
    }

    private async Task<ICoordinatorGrain> StartAsync(bool verbose = false, bool resume = false, JobTimings? timings = null)
    {
        string jobId = $"protocol-{Guid.NewGuid():N}";
        // The target is never connected to: no worker grain joins this job. -v's leader lines need -j 2.
        var spec = new JobSpec(
            jobId, _archive, new Dictionary<string, string> { ["host"] = "127.0.0.1", ["dbname"] = "unused" },
            new RestoreOptions { Verbose = verbose }.ToJobOptions(), Order: null, Jobs: verbose ? 2 : 1, HostBudget: 1, Resume: resume, HostKey: jobId)
        {
            Timings = timings ?? JobTimings.Default,
        };
        var coordinator = _cluster!.Grains.GetGrain<ICoordinatorGrain>(jobId);
        Assert.Equal(JobState.Running, (await coordinator.Start(spec)).State);
        return coordinator;
    }

    internal static UnitReport Done(UnitLease lease) => new(lease.LeaseId, lease.UnitId, 0, [], [], null, 0, 0, []);

    private List<string> Labels(IReadOnlyList<UnitLease> leases)
    {
        using var archive = Archive.PgArchive.Open(_archive);
        return leases.Select(l => archive.GetEntry(l.UnitId)!).Select(e => $"{e.Desc} {e.Tag}").Order(StringComparer.Ordinal).ToList();
    }
}
