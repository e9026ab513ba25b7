using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Cluster;

/// <summary>
/// <c>restorecluster status --cluster CONNSTR [JOB] [--watch] [--json]</c>: the cluster's jobs (state, units,
/// errors, units that ran again, silos that cannot read its archive), each target host's budget, in-flight and waiting counts, and the silos with
/// their slots and running units; with JOB, that job alone with its running units. Exits 0 whenever the cluster
/// answers, with or without jobs.
/// </summary>
internal sealed class StatusCommand
{
    private readonly Option<string?> _cluster = ClusterOption.Create();
    private readonly Option<bool> _watch = new("--watch") { Description = "show it again every second (until the job ends, or Ctrl-C)" };
    private readonly Option<bool> _json = new("--json") { Description = "one JSON object (with --watch: one per line)" };
    private readonly Argument<string?> _job = new("job") { Description = "one job in detail", Arity = ArgumentArity.ZeroOrOne };

    public StatusCommand()
    {
        Command = new Command("status", "jobs, hosts (budget, in flight, waiting) and silos of the cluster; one job in detail") { _cluster, _watch, _json, _job };
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io) => RunAsync(p, io).GetAwaiter().GetResult();

    /// <summary>A job state as status and cancel name it.</summary>
    public static string StateName(JobState state) => state switch
    {
        JobState.NotStarted => "not started",
        JobState.Running => "running",
        JobState.Succeeded => "done",
        JobState.CompletedWithErrors => "done with errors",
        JobState.Failed => "failed",
        _ => "cancelled",
    };

    /// <summary>A job state as status --json names it.</summary>
    public static string JsonStateName(JobState state) => state switch
    {
        JobState.Succeeded => "done",
        JobState.CompletedWithErrors => "done-with-errors",
        JobState.NotStarted => "not-started",
        _ => state.ToString().ToLowerInvariant(),
    };

    private async Task<int> RunAsync(ParseResult p, CliOutput io)
    {
        var database = ClusterOption.Resolve(p, _cluster);
        await using var cluster = await ClusterClient.ConnectAsync(database, ClusterTlsOptions.Resolve(p));
        string? jobId = p.GetValue(_job);
        if (jobId is not null)
        {
            await cluster.FindJobAsync(jobId);
        }

        using var ctrlC = new CtrlC();
        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false)) { AutoFlush = true };
        while (true)
        {
            var snapshot = await ClusterSnapshot.TakeAsync(cluster.Grains, database, jobId);
            await stdout.WriteLineAsync(p.GetValue(_json) ? Json(snapshot) : Text(snapshot));
            bool ended = jobId is not null && snapshot.Jobs.All(j => j.Status is { State: not (JobState.Running or JobState.NotStarted) });
            if (!p.GetValue(_watch) || ended || ctrlC.Pressed)
            {
                return ExitCodes.Success;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ctrlC.Token);
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Success;
            }
        }
    }

    internal static string Text(ClusterSnapshot s)
    {
        var t = new StringBuilder();
        t.Append(CultureInfo.InvariantCulture, $"jobs: {s.Jobs.Count}\n");
        foreach (var (entry, reachable, coordinator) in s.Jobs)
        {
            if (reachable is not { } status)
            {
                t.Append(CultureInfo.InvariantCulture, $"  {entry.JobId}  unreachable  {entry.Archive} -> {entry.Target}  (its coordinator did not answer within {ClusterSnapshot.CallLimit.TotalSeconds:0} s)\n");
                continue;
            }

            t.Append(CultureInfo.InvariantCulture, $"  {entry.JobId}  {StateName(status.State)}  {status.UnitsDone}/{status.UnitsTotal} units  {status.Errors} errors  {entry.Archive} -> {entry.Target}  (coordinator on {coordinator})\n");
            foreach (var unit in status.Running)
            {
                t.Append(CultureInfo.InvariantCulture, $"    running: {unit.Label}\n");
            }

            if (status.RanAgain is { Count: > 0 } again)
            {
                t.Append(CultureInfo.InvariantCulture, $"    ran again: {again.Count} ({string.Join(", ", again)})\n");
            }

            foreach (var blind in status.Unreadable ?? [])
            {
                t.Append(CultureInfo.InvariantCulture, $"    silo {blind.Silo} cannot read the archive: {blind.Reason}\n");
            }

            if (status.Message is { } message)
            {
                t.Append(CultureInfo.InvariantCulture, $"    {message}\n");
            }
        }

        foreach (var fleet in Fleet.FleetSummary.Of(Answered(s), DateTimeOffset.UtcNow))
        {
            t.Append(CultureInfo.InvariantCulture, $"fleet {fleet.FleetId}: {string.Join(", ", fleet.JobsByState.Select(kv => $"{kv.Value} {StateName(kv.Key)}"))}  ETA {ProgressText.Eta(fleet.Eta)}\n");
            foreach (var host in fleet.Hosts)
            {
                t.Append(CultureInfo.InvariantCulture, $"  {host.Host}  {ProgressText.Data(host.BytesDone, host.BytesTotal)}\n");
            }
        }

        t.Append(CultureInfo.InvariantCulture, $"hosts: {s.Hosts.Count}\n");
        foreach (var (host, h) in s.Hosts)
        {
            if (h is null)
            {
                t.Append(CultureInfo.InvariantCulture, $"  {host}  unreachable\n");
                continue;
            }

            t.Append(CultureInfo.InvariantCulture, $"  {host}  budget {h.Budget}  in flight {h.InFlight}  waiting {h.Waiting}");
            if (h.Adaptive is { } adaptive)
            {
                t.Append(CultureInfo.InvariantCulture, $"  ({adaptive}{(h.Reason is { } reason ? $"; last change: {reason}" : "")})");
                if (h.CopyPacePercent < 100)
                {
                    t.Append(CultureInfo.InvariantCulture, $"  COPY pace {h.CopyPacePercent}%");
                }
            }

            t.Append('\n');
        }

        t.Append(CultureInfo.InvariantCulture, $"silos: {s.Silos.Count}\n");
        foreach (var (address, name, worker) in s.Silos)
        {
            t.Append(worker is null
                ? $"  {name}  {address}  unreachable\n"
                : string.Create(CultureInfo.InvariantCulture, $"  {worker.Silo}  {address}  slots {worker.Slots}  running {worker.Running}{(worker.Draining ? "  draining" : "")}\n"));
        }

        return t.ToString().TrimEnd('\n');
    }

    internal static string Json(ClusterSnapshot s)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("jobs");
            foreach (var (entry, reachable, coordinator) in s.Jobs)
            {
                w.WriteStartObject();
                w.WriteString("id", entry.JobId);
                w.WriteString("coordinator", coordinator);
                if (reachable is not { } status)
                {
                    // Its coordinator did not answer in time: what the registry knows, and no counts.
                    w.WriteString("state", "unreachable");
                    w.WriteString("archive", entry.Archive);
                    w.WriteString("target", entry.Target);
                    w.WriteString("host", entry.HostKey);
                    w.WriteString("submitted", entry.Submitted);
                    w.WriteEndObject();
                    continue;
                }

                w.WriteString("state", JsonStateName(status.State));
                w.WriteString("archive", entry.Archive);
                w.WriteString("target", entry.Target);
                w.WriteString("host", entry.HostKey);
                w.WriteString("fleet", entry.FleetId);
                w.WriteNumber("priority", entry.Priority);
                w.WriteString("submitted", entry.Submitted);
                w.WriteNumber("unitsDone", status.UnitsDone);
                w.WriteNumber("unitsTotal", status.UnitsTotal);
                w.WriteNumber("bytesDone", status.BytesDone);
                w.WriteNumber("bytesTotal", status.BytesTotal);
                w.WriteNumber("errors", status.Errors);
                w.WriteNumber("retries", status.Retries);
                w.WriteStartArray("running");
                foreach (var unit in status.Running)
                {
                    w.WriteStringValue(unit.Label);
                }

                w.WriteEndArray();
                w.WriteStartArray("ranAgain");
                foreach (string label in status.RanAgain ?? [])
                {
                    w.WriteStringValue(label);
                }

                w.WriteEndArray();
                w.WriteStartArray("unreadable");
                foreach (var blind in status.Unreadable ?? [])
                {
                    w.WriteStartObject();
                    w.WriteString("silo", blind.Silo);
                    w.WriteString("reason", blind.Reason);
                    w.WriteString("since", blind.Since);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (status.Message is { } message)
                {
                    w.WriteString("message", message);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("fleets");
            foreach (var fleet in Fleet.FleetSummary.Of(Answered(s), DateTimeOffset.UtcNow))
            {
                w.WriteStartObject();
                w.WriteString("id", fleet.FleetId);
                w.WriteStartObject("jobs");
                foreach (var (state, count) in fleet.JobsByState)
                {
                    w.WriteNumber(JsonStateName(state), count);
                }

                w.WriteEndObject();
                w.WriteStartArray("hosts");
                foreach (var host in fleet.Hosts)
                {
                    w.WriteStartObject();
                    w.WriteString("host", host.Host);
                    w.WriteNumber("bytesDone", host.BytesDone);
                    w.WriteNumber("bytesTotal", host.BytesTotal);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (fleet.Eta is { } eta)
                {
                    w.WriteNumber("etaSeconds", eta.TotalSeconds);
                }
                else
                {
                    w.WriteNull("etaSeconds");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("hosts");
            foreach (var (host, h) in s.Hosts)
            {
                w.WriteStartObject();
                w.WriteString("host", host);
                w.WriteBoolean("unreachable", h is null);
                if (h is not null)
                {
                    w.WriteNumber("budget", h.Budget);
                    w.WriteNumber("inFlight", h.InFlight);
                    w.WriteNumber("waiting", h.Waiting);
                }

                if (h?.Adaptive is { } adaptive)
                {
                    w.WriteString("adaptive", adaptive);
                    w.WriteString("reason", h.Reason);
                    w.WriteNumber("copyPace", h.CopyPacePercent);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("silos");
            foreach (var (address, name, worker) in s.Silos)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("address", address);
                w.WriteBoolean("unreachable", worker is null);
                if (worker is not null)
                {
                    w.WriteNumber("slots", worker.Slots);
                    w.WriteNumber("running", worker.Running);
                    w.WriteBoolean("draining", worker.Draining);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    // The jobs whose coordinators answered: a fleet's summary counts what it can see (an unreachable job is listed apart).
    private static IEnumerable<(JobEntry Entry, JobStatus Status)> Answered(ClusterSnapshot s) =>
        s.Jobs.Where(j => j.Status is not null).Select(j => (j.Entry, j.Status!));
}
