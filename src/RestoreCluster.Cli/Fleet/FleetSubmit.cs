using System.CommandLine;
using System.Text;
using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Cli.Cluster;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Fleet;

/// <summary>
/// <c>submit --manifest FILE [--dry-run]</c>: every restore of a manifest as one fleet. The manifest is read and checked
/// whole, then each restore is made ready as <c>submit</c> would (its options, -L list, target and the target server's
/// identity); any problem refuses the fleet before anything is submitted. Then each host's globals file runs, each
/// server gets its budget, and the jobs start in manifest order: stdout has one line per restore ending with its job
/// id, stderr <c>fleet: ID</c>. With <c>--dry-run</c> the plan is printed and the targets checked instead (FleetDryRun).
/// </summary>
internal static class FleetSubmit
{
    public static int Run(ParseResult p, Option<string?> clusterOption, string manifestPath, bool dryRun, CliOutput io)
    {
        FleetManifest manifest;
        try
        {
            manifest = FleetManifest.Load(manifestPath, RestoreCommand.Refusal);
        }
        catch (ManifestException e)
        {
            return Refuse(e.Problems, io);
        }

        var jobs = new List<FleetJob>();
        var problems = new List<string>();
        try
        {
            foreach (var restore in manifest.Restores)
            {
                try
                {
                    jobs.Add(Prepare(restore, io));
                }
                catch (Exception e) when (e is CliError or ArchiveException or PlanningException or RestoreFailedException or NpgsqlException or IOException or UnauthorizedAccessException)
                {
                    problems.Add($"{manifest.Path}:{restore.At.Line}:{restore.At.Column}: {e.Message}");
                }
            }

            if (problems.Count > 0)
            {
                return Refuse(problems, io);
            }

            var servers = FleetServer.Of(jobs);
            var globals = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var server in servers.Where(s => s.Globals is not null))
            {
                try
                {
                    globals[server.HostKey] = GlobalsScript.Read(server.Globals!);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    var at = server.Jobs[0].Restore.Host!.At;
                    problems.Add($"{manifest.Path}:{at.Line}:{at.Column}: {e.Message}");
                }
            }

            if (problems.Count > 0)
            {
                return Refuse(problems, io);
            }

            return dryRun
                ? FleetDryRun.Run(servers, globals, io)
                : SubmitAsync(p, clusterOption, manifest, jobs, servers, globals, io).GetAwaiter().GetResult();
        }
        finally
        {
            foreach (var job in jobs)
            {
                job.Archive.Dispose();
            }
        }
    }

    // Every problem on a line of its own; nothing was submitted.
    private static int Refuse(IReadOnlyList<string> problems, CliOutput io)
    {
        foreach (string problem in problems)
        {
            io.Fail(problem);
        }

        io.Fail($"the manifest was refused ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}); nothing was submitted");
        return ExitCodes.Failure;
    }

    // What submit does with one restore's command line before it contacts the cluster: the same checks, the same job.
    private static FleetJob Prepare(ManifestRestore r, CliOutput io)
    {
        var (p, s) = RestoreCommand.Parse(r.Options, r.Target, r.Archive);
        var (_, restore) = RestoreCommand.BuildOptions(p, s);
        if (restore.SingleTransaction)
        {
            throw new CliError("-1/--single-transaction runs on one session: not with a cluster");
        }

        var archive = PgArchive.Open(r.Archive);
        try
        {
            (var order, restore) = RestoreCommand.ApplyUseList(p, s, archive, restore, io.Warn);
            RestoreCommand.CheckStrictNames(archive, order, restore.Selection);
            var (target, _) = s.Connection.Resolve(p, r.Target);
            int jobs = p.GetValue(s.Jobs);
            // The server's identity (one server under two names counts once): this connects, so an unreachable server
            // refuses the fleet here, before anything is submitted. To its maintenance database: whether the target
            // database is as -C and -c expect is the dry run's check (a job whose database is missing fails alone).
            string hostKey = HostIdentity.Resolve(target.WithDatabase("postgres"), io.Warn);
            return new FleetJob(r, archive, order, restore, target, jobs, HostBudgetChoice.From(p, s), p.GetValue(s.Resume), hostKey);
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    private static async Task<int> SubmitAsync(
        ParseResult p, Option<string?> clusterOption, FleetManifest manifest, IReadOnlyList<FleetJob> jobs, IReadOnlyList<FleetServer> servers,
        IReadOnlyDictionary<string, IReadOnlyList<string>> globals, CliOutput io)
    {
        var database = ClusterOption.Resolve(p, clusterOption);
        if (jobs.Any(j => j.Target.Password is not null))
        {
            io.Warn("the targets' passwords are not sent to the cluster: its silos connect with their own .pgpass, PGPASSFILE or --pgpass");
        }

        await using var cluster = await ClusterClient.ConnectAsync(database, ClusterTlsOptions.Resolve(p));
        // Each server's globals run once, before any of its restores is submitted, from here: with the submitter's
        // credentials, on the server's maintenance database.
        foreach (var server in servers.Where(s => globals.ContainsKey(s.HostKey)))
        {
            int errors = GlobalsScript.Run(globals[server.HostKey], server.Jobs[0].Target.WithDatabase("postgres"), m => io.Warn($"globals on {server.Name}: {m}"), io.Warn);
            io.Error.WriteLine($"restorecluster: globals {server.Globals} on {server.Name}: {globals[server.HostKey].Count} statements, errors ignored: {errors}");
        }

        string fleetId = $"fleet-{Guid.NewGuid():N}";
        await FleetRegistry.AddAsync(database, fleetId, Path.GetFullPath(manifest.Path), servers.Select(s => new FleetHost(s.Name, s.HostKey, s.Budget)).ToList());
        foreach (var server in servers)
        {
            // An adaptive budget's probe connects to the server's maintenance database with the silos' credentials.
            await new HostBudgetChoice(server.Budget, server.Adaptive).ApplyAsync(
                cluster.Grains.GetGrain<IHostBudgetGrain>(server.HostKey), ClusterRestore.Shareable(server.Jobs[0].Target.WithDatabase("postgres")));
        }

        io.Error.WriteLine($"fleet: {fleetId}");
        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false)) { AutoFlush = true };
        var budgets = servers.ToDictionary(s => s.HostKey, s => new HostBudgetChoice(s.Budget, s.Adaptive), StringComparer.Ordinal);
        for (int i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var spec = ClusterRestore.NewSpec(
                job.Archive, job.Order, budgets[job.HostKey].OptionsFor(job.Options), job.Target, job.Jobs, budgets[job.HostKey].Fixed, job.Resume, job.HostKey, job.Restore.Priority);
            await ClusterRestore.StartJobAsync(
                cluster, spec, new JobEntry(spec.JobId, spec.ArchivePath, job.Target.ToString(), job.HostKey, DateTimeOffset.UtcNow, fleetId, job.Restore.Priority), i);
            await stdout.WriteLineAsync($"{job.Describe()}  {spec.JobId}");
        }

        return ExitCodes.Success;
    }
}
