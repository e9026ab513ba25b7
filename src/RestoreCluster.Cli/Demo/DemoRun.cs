using System.Diagnostics;
using System.Globalization;
using RestoreCluster.LocalPostgres;

namespace RestoreCluster.Cli.Demo;

/// <summary>
/// The steps of <c>restorecluster demo</c>: a throwaway server, the sample database, <c>pg_dump -Fd</c>, the
/// restore through the grains (the same command line a user types), <c>pg_restore -j</c> beside it, the
/// comparison of both databases' dumps, and the clean-up (or, with --keep, how to connect and clean up).
/// </summary>
internal sealed class DemoRun(DemoSettings settings, CliOutput io, TextWriter say)
{
    private const string GrainsDatabase = "demo_grains";
    private const string PgRestoreDatabase = "demo_pg_restore";
    // pg_dump makes up a random \restrict key per run; a fixed one keeps two dumps comparable.
    private const string RestrictKey = "restoreclusterdemo";
    private static readonly TimeSpan RestoreGrace = TimeSpan.FromSeconds(5);

    // Speed settings for a scratch server (it is thrown away, so durability does not matter): the sample's
    // big table skips the WAL (created and filled in one transaction at wal_level=minimal), checkpoints do
    // not interrupt the loads, and index builds get memory. Both restores run under the same settings.
    private static readonly string[] ServerSettings =
    [
        "wal_level=minimal", "max_wal_senders=0", "max_wal_size=4GB", "checkpoint_timeout=30min", "maintenance_work_mem=256MB",
    ];

    private Task<int>? grainsRestore;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        string bin = PgBinaries.BinDirectory;
        if (!PgBinaries.Has("pg_dump"))
        {
            throw new CliError($"pg_dump not found in {bin}: the demo needs it to write the archive");
        }

        say.WriteLine($"restorecluster demo: a throwaway PostgreSQL server from {bin}");
        var server = await ThrowawayServer.StartAsync(
            new ThrowawayServerOptions { DirectoryPrefix = "restorecluster-demo-", Settings = ServerSettings }, cancellationToken).ConfigureAwait(false);
        bool keep = false;
        try
        {
            say.WriteLine($"  folder {server.RootDirectory}, port {server.Port} (127.0.0.1 only), socket in {server.SocketDirectory}, pid {server.PostmasterPid}: started in {Seconds(total.Elapsed)}");
            await RunStepsAsync(server, cancellationToken).ConfigureAwait(false);
            keep = settings.Keep;
            if (keep)
            {
                TellHowToConnect(server);
            }

            return ExitCodes.Success;
        }
        finally
        {
            if (keep)
            {
                server.Detach();
            }
            else
            {
                await server.DisposeAsync().ConfigureAwait(false);
                await WaitForGrainsRestoreAsync().ConfigureAwait(false);
                say.WriteLine($"  stopped the server and removed {server.RootDirectory}");
            }

            say.WriteLine($"demo took {Seconds(total.Elapsed)}");
        }
    }

    private async Task RunStepsAsync(ThrowawayServer server, CancellationToken cancellationToken)
    {
        var step = Stopwatch.StartNew();
        say.WriteLine($"building the sample database {SampleDatabase.Name} (about {settings.ScaleMegabytes} MB in one table, {SampleDatabase.SmallTables} small tables)...");
        var stats = await SampleDatabase.BuildAsync(server, settings.ScaleMegabytes, cancellationToken).ConfigureAwait(false);
        say.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {stats.Tables} tables (events: {stats.EventRows:N0} rows), keys, indexes, a view, one large object; {stats.DatabaseBytes / 1048576.0:0} MB on disk: built in {Seconds(step.Elapsed)}"));

        step.Restart();
        string archive = Path.Combine(server.RootDirectory, "archive");
        say.WriteLine($"writing the archive: pg_dump -Fd -j 2 -Z 1 -f {archive} {SampleDatabase.Name}");
        (await PgTool.RunAsync(PgBinaries.Tool("pg_dump"), ["-Fd", "-j", "2", "-Z", "1", "-f", archive, .. Connect(server), SampleDatabase.Name],
            cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        long archiveBytes = new DirectoryInfo(archive).EnumerateFiles().Sum(f => f.Length);
        say.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {archiveBytes / 1048576.0:0} MB: written in {Seconds(step.Elapsed)}"));

        await SampleDatabase.ExecuteAsync(server, "postgres", [$"CREATE DATABASE {GrainsDatabase}", $"CREATE DATABASE {PgRestoreDatabase}"], cancellationToken)
            .ConfigureAwait(false);
        var grainsTime = await RestoreThroughGrainsAsync(server, archive, cancellationToken).ConfigureAwait(false);
        var pgRestoreTime = await RestoreWithPgRestoreAsync(server, archive, cancellationToken).ConfigureAwait(false);

        say.WriteLine();
        say.WriteLine($"  {"tool",-30} {"-j",3} {"wall time",10}");
        say.WriteLine($"  {(settings.Cluster ? $"restorecluster, {DemoCluster.SiloCount} silos" : "restorecluster restore"),-30} {settings.Jobs,3} {Seconds(grainsTime),10}");
        say.WriteLine($"  {"pg_restore",-30} {settings.Jobs,3} {(pgRestoreTime is { } t ? Seconds(t) : "skipped"),10}");
        say.WriteLine();

        if (settings.AlterBeforeVerify is { } sql)
        {
            say.WriteLine($"changing {GrainsDatabase} before the comparison (--alter-before-verify)");
            await SampleDatabase.ExecuteAsync(server, GrainsDatabase, [sql], cancellationToken).ConfigureAwait(false);
        }

        // Without pg_restore the reference is the database the archive was made from.
        string reference = pgRestoreTime is null ? SampleDatabase.Name : PgRestoreDatabase;
        await VerifyAsync(server, reference, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TimeSpan> RestoreThroughGrainsAsync(ThrowawayServer server, string archive, CancellationToken cancellationToken)
    {
        string target = $"host={server.SocketDirectory} port={server.Port} user={ThrowawayServer.SuperUser} dbname={GrainsDatabase}";
        string jobs = settings.Jobs.ToString(CultureInfo.InvariantCulture);
        if (settings.Cluster)
        {
            var clusterStep = Stopwatch.StartNew();
            await using var cluster = new DemoCluster(server, io, say);
            await cluster.RestoreAsync(target, GrainsDatabase, archive, settings.Jobs, cancellationToken).ConfigureAwait(false);
            return clusterStep.Elapsed;
        }

        say.WriteLine($"restoring through the grains: restorecluster restore -j {jobs} -d '{target}' {archive}");
        var step = Stopwatch.StartNew();
        // The command a user types, parsed and run as Program.Main runs it (progress display included); it
        // blocks, so it gets a thread of its own and this method can still give up on Ctrl-C.
        grainsRestore = Task.Run(() => Program.Run(["restore", "-j", jobs, "-d", target, archive], io), CancellationToken.None);
        int code = await grainsRestore.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (code != ExitCodes.Success)
        {
            throw new CliError($"the restore through the grains failed (exit code {code}); see the messages above");
        }

        return step.Elapsed;
    }

    private async Task<TimeSpan?> RestoreWithPgRestoreAsync(ThrowawayServer server, string archive, CancellationToken cancellationToken)
    {
        if (!PgBinaries.Has("pg_restore"))
        {
            say.WriteLine($"pg_restore is not installed in {PgBinaries.BinDirectory}: skipping the side-by-side restore");
            return null;
        }

        string jobs = settings.Jobs.ToString(CultureInfo.InvariantCulture);
        say.WriteLine($"restoring with pg_restore -j {jobs} -d {PgRestoreDatabase} {archive}");
        var result = await PgTool.RunAsync(PgBinaries.Tool("pg_restore"), ["-j", jobs, .. Connect(server), "-d", PgRestoreDatabase, archive],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        result.EnsureSuccess();
        return result.Elapsed;
    }

    private async Task VerifyAsync(ThrowawayServer server, string reference, CancellationToken cancellationToken)
    {
        say.WriteLine($"verifying: pg_dump of {GrainsDatabase} and of {reference}, compared line by line");
        var step = Stopwatch.StartNew();
        string ours = Path.Combine(server.RootDirectory, $"{GrainsDatabase}.sql");
        string theirs = Path.Combine(server.RootDirectory, $"{reference}.sql");
        Task<ToolResult> Dump(string database, string file) => PgTool.RunAsync(
            PgBinaries.Tool("pg_dump"), ["--restrict-key=" + RestrictKey, "-f", file, .. Connect(server), database], cancellationToken: cancellationToken);
        var dumps = await Task.WhenAll(Dump(GrainsDatabase, ours), Dump(reference, theirs)).ConfigureAwait(false);
        foreach (var dump in dumps)
        {
            dump.EnsureSuccess();
        }

        if (await DumpComparer.FirstDifferenceAsync(ours, theirs, cancellationToken).ConfigureAwait(false) is { } difference)
        {
            throw new CliError(string.Create(CultureInfo.InvariantCulture,
                $"verification failed: the dumps of {GrainsDatabase} and {reference} differ at line {difference.Line}: {DumpComparer.Show(difference.Left)} vs {DumpComparer.Show(difference.Right)}"));
        }

        say.WriteLine($"  dumped and compared in {Seconds(step.Elapsed)}");
        say.WriteLine("verified: identical");
    }

    private void TellHowToConnect(ThrowawayServer server)
    {
        say.WriteLine($"the server keeps running (--keep); connect with:");
        say.WriteLine($"  psql -h {server.SocketDirectory} -p {server.Port} -U {ThrowawayServer.SuperUser} {GrainsDatabase}");
        say.WriteLine("stop it and remove its folder with:");
        say.WriteLine($"  kill -QUIT {server.PostmasterPid}; while kill -0 {server.PostmasterPid} 2>/dev/null; do sleep 0.1; done; rm -rf {server.RootDirectory}");
    }

    // A restore still running once the server is gone (Ctrl-C, or a failure elsewhere) ends quickly: its
    // sessions are cut. Give it a moment so that its last lines are not lost, but never hang the clean-up.
    private async Task WaitForGrainsRestoreAsync()
    {
        if (grainsRestore is { IsCompleted: false } pending)
        {
            await Task.WhenAny(pending, Task.Delay(RestoreGrace)).ConfigureAwait(false);
        }
    }

    private static string[] Connect(ThrowawayServer server) =>
        ["-h", server.SocketDirectory, "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-U", ThrowawayServer.SuperUser];

    private static string Seconds(TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.0} s");
}
