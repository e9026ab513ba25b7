using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RestoreCluster.Archive;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The unit protocol under faults, at the grains: an in-process cluster, real worker grains, a real target
/// database, and a worker the test plays with the executor the slots use (it leases, runs, and then stops
/// renewing or reporting, as a worker that hangs or dies does). Leases and permits last a second, so lapses
/// happen within the test. (A report for a lease that was never current is CoordinatorProtocolTests'.)
/// The silo's log records are captured: each fault must reach the log.
/// </summary>
// The grains' meters are process-wide: tests that hold permits must not run while another reads them.
[Collection(InProcessMeters.Name)]
public sealed class UnitFaultTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    // A second's leases and permits (renewed every 250 ms while a unit runs), progress as the CLI reports it.
    private static readonly JobTimings Fast = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(300));

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("rc-faults-");
    private readonly List<string> _databases = [];
    private readonly CapturedLogs _logs = new();
    private PostgresServer? _server;
    private EmbeddedCluster? _cluster;
    private string _archive = "";

    private PostgresServer Server => _server!;

    private IGrainFactory Grains => _cluster!.Grains;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.GetSharedAsync();
        _archive = await GatedArchive.MakeAsync(Server, _directory.FullName);
        _cluster = await EmbeddedCluster.StartAsync(new TelemetryOptions(null, false), _logs.AddTo);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        foreach (string database in _databases)
        {
            await Server.DropDatabaseAsync(database);
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task ALapsedLeaseGoesToAnotherWorkerAndTheFirstWorkersLateReportChangesNothing()
    {
        var job = await StartAsync(Fast);
        using var gone = Executor(job.Spec);
        // The played worker restores up to the gate's data, leases it, and then hangs: no renewal, no report.
        var held = await RunUntilAsync(job, gone, "TABLE DATA gate", run: false);

        // The gate is shut: the worker that gets the unit next is held at it, its lease current.
        await using var gate = await GatedArchive.HoldAsync(Server, job.Database);
        var started = Stopwatch.StartNew();
        await JoinAsync(job, slots: 1);
        int pid = await WaitForGateAsync(job);
        output.WriteLine($"the lapsed lease was run again after {started.Elapsed.TotalMilliseconds:0} ms");

        // Too late: the first worker may neither go on nor renew, and what it reports (a fatal error with
        // errors, say) changes nothing while the unit runs elsewhere.
        Assert.False(await job.Coordinator.ReportProgress(held.LeaseId, 1));
        Assert.False(await job.Coordinator.Renew([held.LeaseId]));
        var before = await job.Coordinator.Status();
        await job.Coordinator.Complete([new UnitReport(held.LeaseId, held.UnitId, 3, [], [held.UnitId], "a fatal error of the lapsed run", 0, 0, ["late"])]);
        var after = await job.Coordinator.Status();
        Assert.Equal(JobState.Running, after.State);
        Assert.Equal(before.UnitsDone, after.UnitsDone);
        Assert.Equal(0, after.Errors);
        Assert.Null(after.Message);
        Assert.Equal(0, after.MessageCount);
        Assert.Contains(after.Running, r => r.Label == "TABLE DATA public.gate");
        Assert.True(await GatedArchive.IsActiveAsync(Server, pid), "the current run of the unit was stopped");

        // The log tells the story: the lease lapsed, the unit was leased again, the late report was ignored.
        Assert.Contains(_logs.Of<CoordinatorGrain>(103), r => r.Level == LogLevel.Debug && r.Message.Contains(held.LeaseId, StringComparison.Ordinal));
        Assert.Contains(_logs.Of<CoordinatorGrain>(104), r => r.Level == LogLevel.Debug && r.Message.StartsWith($"unit {held.UnitId} (TABLE DATA public.gate)", StringComparison.Ordinal));
        Assert.Contains(_logs.Of<CoordinatorGrain>(105), r => r.Level == LogLevel.Information && r.Message.StartsWith("fatal report", StringComparison.Ordinal) && r.Message.Contains(held.LeaseId, StringComparison.Ordinal));

        await gate.CloseAsync();
        var end = await WaitForEndAsync(job);
        Assert.True(end.State == JobState.Succeeded, $"{end.State}: {end.Message}");
        Assert.Equal(0, end.Errors);
        Assert.Equal((long)GatedArchive.GateRows, await Server.ScalarAsync<long>(job.Database, "SELECT count(*) FROM public.gate"));
        await AssertSameAsPgRestoreAsync(job.Database);
    }

    [Fact]
    public async Task AFailedRenewalCancelsTheRunningStatementAndReturnsThePermit()
    {
        // No progress reports (they would see the job's end first): only the renewal can stop the unit.
        var job = await StartAsync(Fast with { ProgressInterval = TimeSpan.FromHours(1) });
        await using var gate = await GatedArchive.HoldAsync(Server, job.Database);
        var worker = await JoinAsync(job, slots: 1);
        int pid = await WaitForGateAsync(job);
        Assert.Equal(1, (await job.Budget.Status()).InFlight);
        Assert.Equal(1, await worker.Running());

        // The job ends elsewhere (another worker's fatal error): the renewal of the running unit returns false.
        var clock = Stopwatch.StartNew();
        await job.Coordinator.Abort("a fatal error elsewhere");
        await WaitUntilAsync(async () => !await GatedArchive.IsActiveAsync(Server, pid), TimeSpan.FromSeconds(2), "the statement at the gate to be cancelled");
        output.WriteLine($"statement gone {clock.Elapsed.TotalMilliseconds:0} ms after the job ended");
        await WaitUntilAsync(async () => (await job.Budget.Status()).InFlight == 0 && await worker.Running() == 0, TimeSpan.FromSeconds(2), "the permit to be returned");
        Assert.Equal(0L, await Server.ScalarAsync<long>(job.Database, "SELECT count(*) FROM public.gate"));
    }

    // With --inserts the gate's rows go one INSERT at a time under savepoints: a cancelled INSERT must be
    // neither counted as the archive's error, nor (with -e) a reason to commit the rows before it, and the
    // unit must not go on to the next one.
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ACancelledJobStopsTheRunningStatementWithinTwoSecondsAndKeepsTheJournal(bool inserts, bool exitOnError)
    {
        var job = await StartAsync(
            Fast, archive: inserts ? await GatedArchive.MakeAsync(Server, _directory.FullName, inserts: true) : null,
            options: new RestoreOptions { ExitOnError = exitOnError });
        await using var gate = await GatedArchive.HoldAsync(Server, job.Database);
        var worker = await JoinAsync(job, slots: 2);
        int pid = await WaitForGateAsync(job);

        var clock = Stopwatch.StartNew();
        await job.Coordinator.Cancel();
        await WaitUntilAsync(async () => !await GatedArchive.IsActiveAsync(Server, pid), TimeSpan.FromSeconds(2), "the statement at the gate to be cancelled");
        output.WriteLine($"statement gone {clock.Elapsed.TotalMilliseconds:0} ms after the cancel");
        await WaitUntilAsync(async () => (await job.Budget.Status()).InFlight == 0 && await worker.Running() == 0, TimeSpan.FromSeconds(2), "the permits to be returned");
        Assert.Equal(JobState.Cancelled, (await job.Coordinator.Status()).State);
        var status = await job.Coordinator.Status();
        Assert.Equal(0, status.Errors);
        Assert.Equal(0, status.MessageCount);
        Assert.Equal(0L, await Server.ScalarAsync<long>(job.Database, "SELECT count(*) FROM public.gate"));
        Assert.True(await Server.ScalarAsync<bool>(job.Database, $"SELECT to_regnamespace('{RestoreJournal.Schema}') IS NOT NULL"), "a cancelled job keeps its journal");
    }

    [Fact]
    public async Task AUnitRunTwiceIsCountedOnceWithWhatItsFirstRunRecorded()
    {
        // The index's name is taken in the target: its unit fails with one error, as pg_restore's would.
        var job = await StartAsync(Fast, "CREATE TABLE public.notes_id (x integer)");
        using var first = Executor(job.Spec);
        // The played worker runs the index unit to its COMMIT (journal row and error included) and dies
        // before it reports: its lease lapses, and the unit runs a second time on a real worker.
        var held = await RunUntilAsync(job, first, "INDEX notes_id", run: true);
        Assert.Equal(1L, await Server.ScalarAsync<long>(job.Database, $"SELECT count(*) FROM {RestoreJournal.Schema}.unit WHERE unit_id = {held.UnitId} AND errors = 1"));

        await JoinAsync(job, slots: 1);
        var end = await WaitForEndAsync(job);
        Assert.True(end.State == JobState.CompletedWithErrors, $"{end.State}: {end.Message}");
        Assert.Equal(1, end.Errors);
        Assert.Equal(1, end.MessageCount);
        Assert.Contains("notes_id", Assert.Single(end.ErrorMessages), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerThatIsGoneLeavesLeasesAndAPermitThatLapseAndTheJobStillCompletes()
    {
        var job = await StartAsync(Fast);
        using var gone = Executor(job.Spec);
        // The played worker takes the budget's only permit, restores the start, leases a batch of data,
        // and is gone: nothing renewed, reported or released.
        var permit = await job.Budget.Acquire("gone/0", Fast.PermitTime, TimeSpan.Zero);
        Assert.NotNull(permit);
        var prefork = Assert.Single(await job.Coordinator.Lease("gone/0", 8, TimeSpan.Zero));
        await job.Coordinator.Complete(gone.Run([prefork], CancellationToken.None));
        var batch = await job.Coordinator.Lease("gone/0", 8, TimeSpan.Zero);
        Assert.NotEmpty(batch);

        var clock = Stopwatch.StartNew();
        await JoinAsync(job, slots: 2);
        var end = await WaitForEndAsync(job);
        output.WriteLine($"job ended {clock.Elapsed.TotalMilliseconds:0} ms after the live worker joined");
        Assert.True(end.State == JobState.Succeeded, $"{end.State}: {end.Message}");
        Assert.Equal(0, end.Errors);
        // The live slots hand their permits back once they hear of the end, a moment after it.
        await WaitUntilAsync(async () => (await job.Budget.Status()).InFlight == 0, TimeSpan.FromSeconds(2), "the permits to be returned");
        Assert.False(await job.Budget.Renew(permit.PermitId, Fast.PermitTime), "the lapsed permit was renewed");
        Assert.Contains(_logs.Of<HostBudgetGrain>(300), r => r.Level == LogLevel.Warning && r.Message.Contains(permit.PermitId, StringComparison.Ordinal));
        Assert.Equal((long)GatedArchive.ItemRows, await Server.ScalarAsync<long>(job.Database, "SELECT count(DISTINCT id) FROM public.items"));
        Assert.Equal((long)GatedArchive.ItemRows, await Server.ScalarAsync<long>(job.Database, "SELECT count(*) FROM public.items"));
        await AssertSameAsPgRestoreAsync(job.Database);
    }

    [Fact]
    public async Task AJobWhoseArchiveTheOnlySiloCannotReadFailsWithOneLineNamingTheArchiveAndTheSilo()
    {
        // The coordinator planned the job from the archive; by the time the worker joins, the file is gone. The
        // embedded silo is the only one: with no live silo that can read the archive, the job cannot go on.
        string archive = Path.Combine(_directory.FullName, "vanishing.dump");
        File.Copy(_archive, archive);
        var job = await StartAsync(Fast, archive: archive);
        File.Delete(archive);

        await JoinAsync(job, slots: 1);
        var end = await WaitForEndAsync(job);

        Assert.Equal(JobState.Failed, end.State);
        Assert.NotNull(end.Message);
        Assert.StartsWith($"no live silo can read the archive \"{archive}\" ({_cluster!.SiloName}: ", end.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', end.Message);
        // The silo says so once, as a warning naming the archive and the job; nothing of the job ran.
        var warning = Assert.Single(_logs.Of<WorkerGrain>(205));
        Assert.True(warning.Level == LogLevel.Warning, _logs.Describe());
        Assert.Contains(archive, warning.Message, StringComparison.Ordinal);
        Assert.Contains(job.Spec.JobId, warning.Message, StringComparison.Ordinal);
        Assert.Empty(_logs.Of<WorkerGrain>(202));
        Assert.Equal(0, end.UnitsDone);
        // The job's end is logged too, with the reason.
        Assert.Contains(_logs.Of<CoordinatorGrain>(101), r => r.Message.Contains("ended failed", StringComparison.Ordinal) && r.Message.Contains("vanishing.dump", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATargetDatabaseThatIsGoneStopsTheJobAndTheFailureIsLoggedWithItsException()
    {
        var job = await StartAsync(Fast);
        await Server.DropDatabaseAsync(job.Database);

        await JoinAsync(job, slots: 1);
        var end = await WaitForEndAsync(job);

        Assert.Equal(JobState.Failed, end.State);
        Assert.Contains(job.Database, end.Message, StringComparison.Ordinal);
        var stopped = _logs.Of<UnitExecutor>(401);
        Assert.True(stopped.Count > 0, _logs.Describe());
        Assert.All(stopped, r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.Contains(stopped, r => r.Exception is RestoreFailedException && r.Message.Contains(job.Database, StringComparison.Ordinal));
    }

    // -C -c: the prefork's DATABASE entry. A first lease runs it as pg_restore does; a lease after a lapse
    // looks at the unit database first and takes only "no such database" (3D000) for missing.
    [Fact]
    public async Task WithCreateAPreforkLeasedAgainFailsInsteadOfDroppingADatabaseItCannotReach()
    {
        var (job, created) = await StartCreatingAsync();
        await Server.ExecuteAsync("postgres", $"CREATE DATABASE {created}");
        await Server.ExecuteAsync(created, "CREATE TABLE public.restored_so_far (id integer)");
        ClearPool(created);
        await Server.ExecuteAsync("postgres", $"ALTER DATABASE {created} ALLOW_CONNECTIONS false");
        try
        {
            var prefork = await LeasePreforkAsync(job);
            using var executor = Executor(job.Spec);

            var report = Assert.Single(executor.Run([prefork with { FirstRun = false }], CancellationToken.None));

            Assert.NotNull(report.Fatal);
            Assert.Contains("not currently accepting connections", report.Fatal, StringComparison.Ordinal);
        }
        finally
        {
            await Server.ExecuteAsync("postgres", $"ALTER DATABASE {created} ALLOW_CONNECTIONS true");
        }

        Assert.True(await Server.ScalarAsync<bool>(created, "SELECT to_regclass('public.restored_so_far') IS NOT NULL"), "the database was dropped and created again");
    }

    [Fact]
    public async Task WithCreateAPreforkLeasedAgainCreatesTheDatabaseWhenItIsNotThere()
    {
        var (job, created) = await StartCreatingAsync();
        var prefork = await LeasePreforkAsync(job);
        using var executor = Executor(job.Spec);

        var report = Assert.Single(executor.Run([prefork with { FirstRun = false }], CancellationToken.None));
        executor.Close();

        Assert.Null(report.Fatal);
        Assert.Equal(0, report.Errors);
        Assert.True(await Server.ScalarAsync<bool>(created, "SELECT to_regclass('public.items') IS NOT NULL"), "the prefork did not create the database and its tables");
    }

    [Fact]
    public async Task WithCreateAPreforksFirstLeaseDropsAndCreatesTheDatabaseAsPgRestoreDoes()
    {
        var (job, created) = await StartCreatingAsync();
        await Server.ExecuteAsync("postgres", $"CREATE DATABASE {created}");
        await Server.ExecuteAsync(created, "CREATE TABLE public.left_before (id integer)");
        ClearPool(created);
        await Server.ExecuteAsync("postgres", $"ALTER DATABASE {created} ALLOW_CONNECTIONS false");
        var prefork = await LeasePreforkAsync(job);
        Assert.True(prefork.FirstRun);
        using var executor = Executor(job.Spec);

        var report = Assert.Single(executor.Run([prefork], CancellationToken.None));
        executor.Close();

        Assert.True(report.Fatal is null, report.Fatal + "\n" + string.Join("\n", report.ErrorMessages));
        Assert.True(await Server.ScalarAsync<bool>(created, "SELECT to_regclass('public.left_before') IS NULL AND to_regclass('public.items') IS NOT NULL"), "-c did not drop and create the database");
    }

    // A -C -c job on the shared server: it creates the archive's database under its source's name (gone since the dump).
    private async Task<(Job Job, string Created)> StartCreatingAsync()
    {
        using var archive = PgArchive.Open(_archive);
        string created = archive.Entries.Single(e => e.Desc == "DATABASE").Tag;
        _databases.Add(created);
        var options = new RestoreOptions { Selection = new() { CreateDatabase = true }, Clean = true, IfExists = true };
        return (await StartAsync(Fast, options: options), created);
    }

    // The test's pooled session would keep DROP DATABASE from running.
    private void ClearPool(string database)
    {
        using var pooled = new Npgsql.NpgsqlConnection(Server.ConnectionString(database));
        Npgsql.NpgsqlConnection.ClearPool(pooled);
    }

    private static async Task<UnitLease> LeasePreforkAsync(Job job)
    {
        var prefork = Assert.Single(await job.Coordinator.Lease("played/0", 1, TimeSpan.FromSeconds(5)));
        Assert.Equal(UnitKind.Prefork, prefork.Kind);
        return prefork;
    }

    private sealed record Job(JobSpec Spec, string Database, ICoordinatorGrain Coordinator, IHostBudgetGrain Budget);

    // A job on a fresh target database (with the setup SQL run in it first), budget 1, not yet joined by any worker.
    private async Task<Job> StartAsync(JobTimings timings, string? setup = null, string? archive = null, RestoreOptions? options = null)
    {
        string database = await Server.CreateDatabaseAsync("faults");
        _databases.Add(database);
        if (setup is not null)
        {
            await Server.ExecuteAsync(database, setup);
        }

        string jobId = $"faults-{Guid.NewGuid():N}";
        var target = ConnectionTarget.Resolve(Server.LibpqConnectionString(database), null, null, null, new Dictionary<string, string?>());
        var spec = new JobSpec(
            jobId, archive ?? _archive, target.Values, (options ?? new RestoreOptions()).ToJobOptions(), Order: null, Jobs: 2, HostBudget: 1, Resume: false,
            HostKey: jobId, Timings: timings);
        var budget = Grains.GetGrain<IHostBudgetGrain>(jobId);
        await budget.SetBudget(1);
        var coordinator = Grains.GetGrain<ICoordinatorGrain>(jobId);
        Assert.Equal(JobState.Running, (await coordinator.Start(spec)).State);
        return new Job(spec, database, coordinator, budget);
    }

    private UnitExecutor Executor(JobSpec spec) => new(spec, PgArchive.Open(_archive));

    private async Task<IWorkerGrain> JoinAsync(Job job, int slots)
    {
        var worker = Grains.GetGrain<IWorkerGrain>($"worker-{Guid.NewGuid():N}");
        await worker.Join(job.Spec.JobId, slots);
        return worker;
    }

    // Plays a worker that leases one unit at a time, runs it and reports it, until it leases the unit
    // labelled <paramref name="label"/>: that one it runs (or not) and never reports. Returns its lease.
    private async Task<UnitLease> RunUntilAsync(Job job, UnitExecutor executor, string label, bool run)
    {
        using var archive = PgArchive.Open(_archive);
        while (true)
        {
            var lease = Assert.Single(await job.Coordinator.Lease("played/0", 1, TimeSpan.FromSeconds(5)));
            var reports = run || Label(archive, lease) != label ? executor.Run([lease], CancellationToken.None) : [];
            Assert.All(reports, r => Assert.Null(r.Fatal));
            if (Label(archive, lease) == label)
            {
                return lease;
            }

            await job.Coordinator.Complete(reports);
        }
    }

    private static string Label(PgArchive archive, UnitLease lease) =>
        archive.GetEntry(lease.UnitId) is { } e ? $"{e.Desc} {e.Tag}" : lease.Kind.ToString();

    private async Task<int> WaitForGateAsync(Job job)
    {
        int? pid = null;
        await WaitUntilAsync(async () => (pid = await GatedArchive.WaitingBackendAsync(Server, job.Database)) is not null, Limit, "a unit's statement waiting at the gate");
        return pid!.Value;
    }

    private static async Task<JobStatus> WaitForEndAsync(Job job)
    {
        var clock = Stopwatch.StartNew();
        var status = await job.Coordinator.Status();
        while (status.State == JobState.Running)
        {
            Assert.True(clock.Elapsed < Limit, $"the job did not end within {Limit.TotalSeconds:0} s: {status.UnitsDone} of {status.UnitsTotal} units done");
            status = await job.Coordinator.WaitStatus(status.News, 0, TimeSpan.FromSeconds(1));
        }

        return status;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < limit, $"not reached within {limit.TotalMilliseconds:0} ms: {what}");
            await Task.Delay(20);
        }
    }

    // The target dumps as pg_restore's restore of the same archive does.
    private async Task AssertSameAsPgRestoreAsync(string database)
    {
        string reference = await Server.CreateDatabaseAsync("faults_ref");
        _databases.Add(reference);
        (await Server.RunToolAsync("pg_restore", ["-d", reference, _archive])).EnsureSuccess();
        Assert.Equal(await DumpAsync(reference), await DumpAsync(database));
    }

    private async Task<string> DumpAsync(string database)
    {
        var dump = await Server.RunToolAsync("pg_dump", ["--restrict-key=faults", "-d", database]);
        dump.EnsureSuccess();
        return dump.StdoutText.Replace(database, "<db>", StringComparison.Ordinal);
    }
}
