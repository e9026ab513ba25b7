using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Npgsql;
using RestoreCluster.LocalPostgres;

namespace RestoreCluster.Cli.Demo;

/// <summary>
/// <c>demo --cluster</c>'s restore: a cluster database on the demo's own server (<c>cluster init</c>), three silo
/// processes of this executable on loopback, the job submitted to them; once a table's COPY runs in the target,
/// the silo running the most units is killed (SIGKILL), and the job still finishes, its lost units run again on
/// the others. The same commands a user types, run as Program.Main runs them (docs/demo.md).
/// </summary>
internal sealed class DemoCluster(ThrowawayServer server, CliOutput io, TextWriter say) : IAsyncDisposable
{
    public const int SiloCount = 3;
    private const string ClusterDatabaseName = "demo_cluster";
    private static readonly TimeSpan JoinLimit = TimeSpan.FromSeconds(90);
    private readonly List<(string Name, Process Process)> _silos = [];

    private string Cluster => $"Host={server.SocketDirectory};Port={server.Port.ToString(CultureInfo.InvariantCulture)};Username={ThrowawayServer.SuperUser};Database={ClusterDatabaseName}";

    /// <summary>Starts the cluster, runs the job with one silo killed mid-COPY, and returns once the job has ended well.</summary>
    public async Task RestoreAsync(string target, string targetDatabase, string archive, int jobs, CancellationToken cancellationToken)
    {
        var step = Stopwatch.StartNew();
        await SampleDatabase.ExecuteAsync(server, "postgres", [$"CREATE DATABASE {ClusterDatabaseName}"], cancellationToken).ConfigureAwait(false);
        say.WriteLine($"starting a cluster: restorecluster cluster init --cluster '{Cluster}', then {SiloCount} silos (restorecluster silo --advertise 127.0.0.1 ...)");
        Run(["cluster", "init", "--cluster", Cluster], "cluster init");
        for (int i = 1; i <= SiloCount; i++)
        {
            StartSilo($"demo-{i}", jobs);
        }

        foreach (var (name, process) in _silos)
        {
            await WaitForLineAsync(process, " joined the cluster ", JoinLimit, $"silo {name} did not join the cluster", cancellationToken).ConfigureAwait(false);
        }

        say.WriteLine($"  {SiloCount} silos joined in {Seconds(step.Elapsed)} (pids {string.Join(", ", _silos.Select(s => s.Process.Id))}; logs in {server.RootDirectory})");

        string jobsText = jobs.ToString(CultureInfo.InvariantCulture);
        say.WriteLine($"submitting: restorecluster submit -j {jobsText} -d '{target}' {archive}");
        string job = Run(["submit", "-j", jobsText, "-d", target, archive, "--cluster", Cluster], "submit").TrimEnd('\n').Split('\n')[^1];
        say.WriteLine($"  job {job}");

        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var kill = Task.Run(() => KillDuringCopyAsync(targetDatabase, job, watching.Token), CancellationToken.None);
        say.WriteLine($"following it: restorecluster wait {job}");
        int waited = await Task.Run(() => Program.Run(["wait", job, "--cluster", Cluster], io), CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
        await watching.CancelAsync().ConfigureAwait(false);
        string? killed;
        try
        {
            killed = await kill.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            killed = null;
        }

        if (waited != ExitCodes.Success)
        {
            throw new CliError($"the cluster's job {job} failed (exit code {waited}); see the messages above");
        }

        using var status = JsonDocument.Parse(Run(["status", "--json", job, "--cluster", Cluster], "status"));
        var ranAgain = status.RootElement.GetProperty("jobs")[0].GetProperty("ranAgain").EnumerateArray().Select(u => u.GetString()).ToList();
        say.WriteLine(killed is null
            ? "  the job ended before a table's COPY was seen: no silo was killed"
            : $"  the job finished without silo {killed}; units that ran again on the others: {ranAgain.Count}{Sample(ranAgain)}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process) in _silos)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        foreach (var (_, process) in _silos)
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            process.Dispose();
        }
    }

    // Once a COPY runs in the target, the silo with the most running units is killed outright (a lost machine).
    private async Task<string?> KillDuringCopyAsync(string targetDatabase, string job, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(targetDatabase));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var copying = new NpgsqlCommand(
            "SELECT c.relid::regclass::text FROM pg_stat_progress_copy c WHERE c.datid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND c.command = 'COPY FROM' LIMIT 1",
            connection);
        // Until the job has ended (the token is cancelled once wait returns).
        while (true)
        {
            if (await copying.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string table)
            {
                using var status = JsonDocument.Parse(Run(["status", "--json", job, "--cluster", Cluster], "status"));
                // Not the coordinator's silo: a job does not survive its coordinator's silo yet (docs/cluster.md).
                string? coordinator = status.RootElement.GetProperty("jobs")[0].GetProperty("coordinator").GetString();
                var busiest = status.RootElement.GetProperty("silos").EnumerateArray()
                    .Select(s => (Name: s.GetProperty("name").GetString()!, Running: s.TryGetProperty("running", out var running) ? running.GetInt32() : 0))
                    .Where(s => s.Name != coordinator)
                    .OrderByDescending(s => s.Running).First();
                var victim = _silos.Single(s => s.Name == busiest.Name).Process;
                victim.Kill(entireProcessTree: true);
                say.WriteLine($"  COPY into {table} is running: killed silo {busiest.Name} (SIGKILL, pid {victim.Id}) with {busiest.Running} unit{(busiest.Running == 1 ? "" : "s")} running; its leases lapse and the units run again elsewhere");
                return busiest.Name;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private void StartSilo(string name, int slots)
    {
        // This executable again: the composite image runs as itself, a framework-dependent build through dotnet.
        string self = Environment.ProcessPath ?? throw new CliError("demo: cannot find this executable to start silos");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        foreach (string arg in (string[])[
                     "silo", "--cluster", Cluster, "--name", name, "--slots", slots.ToString(CultureInfo.InvariantCulture),
                     "--port", FreePort(), "--gateway-port", FreePort(), "--advertise", "127.0.0.1",
                     "--log-file", Path.Combine(server.RootDirectory, $"{name}.log"),
                     // Fast failure detection: the killed silo is declared dead within seconds (docs/cluster.md).
                     "--probe-timeout", "1", "--missed-probes", "2", "--death-votes", "1", "--table-refresh", "2", "--alive-publish", "5"])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new CliError($"demo: could not start silo {name}");
        // Read stderr as it comes (a full pipe would stall the silo); a failing silo's lines are kept for the error.
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (io.Error)
                {
                    io.Error.WriteLine($"  [{name}] {line}");
                }
            }
        });
        _silos.Add((name, process));
    }

    private static async Task WaitForLineAsync(Process process, string marker, TimeSpan limit, string failure, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false) is { } line)
            {
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    // The rest of its stdout is drained in the background.
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliError($"demo: {failure} within {limit.TotalSeconds:0} s");
        }

        throw new CliError($"demo: {failure} (it exited)");
    }

    // A command run in this process, as Program.Main runs it; its stdout is returned, its stderr goes to ours.
    private string Run(string[] args, string what)
    {
        var stdout = new MemoryStream();
        int code = Program.Run(args, new CliOutput(() => stdout, io.Error, io.OpenStdin));
        string text = Encoding.UTF8.GetString(stdout.ToArray());
        return code == ExitCodes.Success ? text : throw new CliError($"demo: {what} failed (exit code {code}); see the messages above");
    }

    // The first few labels, enough to see which units; the count says how many.
    private static string Sample(IReadOnlyList<string?> labels) =>
        labels.Count == 0 ? "" : $" ({string.Join(", ", labels.Take(4))}{(labels.Count > 4 ? ", ..." : "")})";

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }

    private static string Seconds(TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.0} s");
}
