using System.CommandLine;
using System.Diagnostics;
using System.Text;
using RestoreCluster.Archive;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using Orleans.Runtime.Placement;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>submit</c> and <c>restore --cluster</c>: the job goes to the cluster's silos instead of an embedded one.
/// The archive is a path every silo reads (a shared filesystem); the target travels without its password (the
/// silos use their own credentials). <c>submit</c> prints the job id and returns; <c>restore --cluster</c> then
/// follows the job as <c>restore</c> does, and Ctrl-C detaches from it (the job goes on; <c>cancel</c> stops it).
/// </summary>
internal static class ClusterRestore
{
    /// <summary>The keywords of a target that stay with the submitter: the password, and where it would read one.</summary>
    private static readonly string[] LocalOnly = ["password", "passfile"];

    public static int Run(
        ParseResult p, RestoreOptionsSpec s, CliOutput io, RestoreLogs logs, PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions restore, string db, bool submit)
    {
        var database = ClusterOption.Resolve(p, s.Cluster);
        if (restore.SingleTransaction)
        {
            throw new CliError("-1/--single-transaction runs on one session: not with a cluster", ExitCodes.Usage);
        }

        if (!archive.IsSeekable)
        {
            throw new CliError("a cluster job needs an archive file or directory every silo can read, not standard input");
        }

        var (target, _) = s.Connection.Resolve(p, db);
        int jobs = p.GetValue(s.Jobs);
        var hostBudget = HostBudgetChoice.From(p, s);
        return RunAsync(p, s, io, logs, archive, order, restore, database, target, jobs, hostBudget, submit).GetAwaiter().GetResult();
    }

    /// <summary>The target as it travels to the cluster: without a password or a local password file.</summary>
    public static IReadOnlyDictionary<string, string> Shareable(ConnectionTarget target) =>
        target.Values.Where(kv => !LocalOnly.Contains(kv.Key, StringComparer.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    private static async Task<int> RunAsync(
        ParseResult p, RestoreOptionsSpec s, CliOutput io, RestoreLogs logs, PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions restore,
        ClusterDatabase database, ConnectionTarget target, int jobs, HostBudgetChoice hostBudget, bool submit)
    {
        var started = Stopwatch.StartNew();
        if (target.Password is not null)
        {
            io.Warn("the target's password is not sent to the cluster: its silos connect with their own .pgpass, PGPASSFILE or --pgpass");
        }

        // The host key counts one server once whatever it is called; read here, where the password (if any) is.
        string hostKey = await Task.Run(() => HostIdentity.Resolve(target, io.Warn));
        await using var cluster = await ClusterClient.ConnectAsync(database, ClusterTlsOptions.Resolve(p));
        var spec = NewSpec(archive, order, hostBudget.OptionsFor(restore), target, jobs, hostBudget.HostBudget, p.GetValue(s.Resume), hostKey, priority: 0);
        string jobId = spec.JobId;
        var budget = cluster.Grains.GetGrain<IHostBudgetGrain>(hostKey);
        await hostBudget.ApplyAsync(budget, spec.Target);
        var coordinator = await StartJobAsync(cluster, spec, new JobEntry(jobId, spec.ArchivePath, target.ToString(), hostKey, DateTimeOffset.UtcNow));

        if (submit)
        {
            using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false));
            stdout.WriteLine(jobId);
            return ExitCodes.Success;
        }

        io.Error.WriteLine($"restorecluster: job {jobId} submitted to the cluster in {database}");
        var status = await JobWatch.FollowAsync(
            coordinator, budget, p.GetValue(s.Progress) ?? "auto", TimeSpan.FromSeconds(p.GetValue(s.StallWarning)), target.HostLabel, io, logs, started,
            JobWatch.OnInterrupt.Detach);
        if (status is null)
        {
            io.Warn($"detached from job {jobId}; it goes on in the cluster (restorecluster wait or cancel --cluster ... {jobId})");
            return ExitCodes.Failure;
        }

        return JobWatch.Exit(status, io, $"job {jobId} was cancelled");
    }

    /// <summary>A new job (its id made here) restoring <paramref name="archive"/> into <paramref name="target"/>, without its password.</summary>
    public static JobSpec NewSpec(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions restore, ConnectionTarget target, int jobs, int hostBudget, bool resume, string hostKey, int priority) =>
        new($"job-{Guid.NewGuid():N}", Path.GetFullPath(archive.DisplayName), Shareable(target), restore.ToJobOptions(),
            ReferenceEquals(order, archive.Entries) ? null : order.Select(e => e.DumpId).ToList(), jobs, hostBudget, resume, null, hostKey, Priority: priority);

    /// <summary>
    /// Starts the job's coordinator, records the job (<paramref name="fleetPosition"/>: its place in its fleet's
    /// manifest) and has every active silo join it. Its host's budget is set before.
    /// </summary>
    public static async Task<ICoordinatorGrain> StartJobAsync(ClusterClient cluster, JobSpec spec, JobEntry entry, int? fleetPosition = null)
    {
        var coordinator = cluster.Grains.GetGrain<ICoordinatorGrain>(spec.JobId);
        // The coordinator reads the TOC on its silo: it is placed on one that can read the archive.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, await CoordinatorSiloAsync(cluster.Grains, spec.ArchivePath, cluster.Database));
        try
        {
            await coordinator.Start(spec);
        }
        catch (Exception e) when (e is not (TimeoutException or OperationCanceledException))
        {
            // Whatever the coordinator's silo met (an archive it read a moment ago and now cannot, say) comes back as the grain's exception.
            throw new CliError($"the cluster could not start the job: {e.Message.Split('\n')[0].Trim()}");
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        await JobRegistry.AddAsync(cluster.Database, entry, fleetPosition);
        foreach (string silo in await ActiveSilosAsync(cluster.Grains))
        {
            await cluster.Grains.GetGrain<IWorkerGrain>(silo).Join(spec.JobId, spec.Jobs);
        }

        return coordinator;
    }

    // An active silo that can read the archive, chosen at random among them so that coordinators spread; when none can,
    // the job is refused in one line that names each silo's reason.
    private static async Task<SiloAddress> CoordinatorSiloAsync(IGrainFactory grains, string archivePath, ClusterDatabase database)
    {
        var readable = new List<SiloAddress>();
        var blind = new List<string>();
        foreach (var host in (await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true)).OrderBy(h => h.SiloName, StringComparer.Ordinal))
        {
            if (host.Status != SiloStatus.Active)
            {
                continue;
            }

            if (await grains.GetGrain<IWorkerGrain>(host.SiloName).CheckArchive(archivePath) is { } reason)
            {
                blind.Add($"{host.SiloName}: {reason}");
            }
            else
            {
                readable.Add(host.SiloAddress);
            }
        }

        return readable.Count > 0
            ? readable[Random.Shared.Next(readable.Count)]
            : throw new CliError(blind.Count == 0
                ? $"no silo of the cluster in {database} is active"
                : $"no silo of the cluster can read the archive \"{archivePath}\" ({string.Join("; ", blind)})");
    }

    /// <summary>The names of the cluster's active silos (their workers' keys).</summary>
    public static async Task<IReadOnlyList<string>> ActiveSilosAsync(IGrainFactory grains)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        return hosts.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloName).Distinct(StringComparer.Ordinal).ToList();
    }
}
