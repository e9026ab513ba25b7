using System.Globalization;
using System.Text;
using Npgsql;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Fleet;

/// <summary>
/// <c>submit --manifest FILE --dry-run</c>: the fleet's plan per target server (its jobs, their data bytes, its budget
/// and a first estimate of its time) on stdout, and each restore checked against its server (FleetChecks): reachable,
/// the roles it names there or created by the globals, the database as -C and -c expect. Nothing is submitted, run
/// or changed; exit 1 when a check fails.
/// </summary>
internal static class FleetDryRun
{
    /// <summary>
    /// A first guess of the table data one session loads per second, for the plan's estimate before anything ran:
    /// the order of what the restore benchmark measures on a small machine (docs/performance.md); the real rate
    /// depends on the server, its disks and the data.
    /// </summary>
    public const long AssumedBytesPerSecond = 20L << 20;

    public static int Run(IReadOnlyList<FleetServer> servers, IReadOnlyDictionary<string, IReadOnlyList<string>> globals, CliOutput io)
    {
        int problems = 0;
        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false)) { AutoFlush = true };
        foreach (var server in servers)
        {
            long bytes = server.Jobs.Sum(j => j.DataBytes);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"host {server.Name} ({server.HostKey}): budget {server.BudgetText}, {server.Jobs.Count} job{(server.Jobs.Count == 1 ? "" : "s")}, {ProgressText.Size(bytes)} of data, first estimate {Estimate(bytes, server.Budget)}"));
            TargetSurvey survey;
            try
            {
                survey = TargetSurvey.Read(server.Jobs[0].Target, io.Warn);
            }
            catch (Exception e) when (e is RestoreFailedException or NpgsqlException)
            {
                io.Fail($"{server.Name}: cannot be reached: {e.Message}");
                problems += server.Jobs.Count;
                continue;
            }

            var created = globals.TryGetValue(server.HostKey, out var statements) ? FleetChecks.RolesCreated(statements) : new HashSet<string>();
            foreach (var job in server.Jobs)
            {
                var missing = FleetChecks.RolesNamed(job.Order, job.Options).Where(r => !survey.Roles.Contains(r) && !created.Contains(r)).Order(StringComparer.Ordinal).ToList();
                var database = FleetChecks.DatabaseProblem(job.Order, job.Options, job.Target, survey.Databases);
                string verdict = missing.Count == 0 && database is null ? "ok" : "refused";
                stdout.WriteLine($"  {job.Describe()}  {ProgressText.Size(job.DataBytes)}  priority {job.Restore.Priority}  {verdict}");
                string where = $"{job.Restore.Archive} -> {job.Target}";
                if (missing.Count > 0)
                {
                    problems++;
                    io.Fail($"{where}: role{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Select(r => $"\"{r}\""))} named by the archive {(missing.Count == 1 ? "does" : "do")} not exist on {server.Name} and the globals do not create {(missing.Count == 1 ? "it" : "them")}");
                }

                if (database is not null)
                {
                    problems++;
                    io.Fail($"{where}: {database}");
                }
            }
        }

        stdout.WriteLine(problems == 0 ? "dry run: every target is ready; nothing was submitted" : $"dry run: {problems} problem{(problems == 1 ? "" : "s")}; nothing was submitted");
        return problems == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static string Estimate(long bytes, int budget) =>
        ProgressText.Eta(TimeSpan.FromSeconds(Math.Ceiling(bytes / (double)(AssumedBytesPerSecond * budget))));
}
