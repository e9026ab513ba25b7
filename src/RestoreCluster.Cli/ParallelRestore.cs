using System.Diagnostics;
using RestoreCluster.Archive;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary>
/// restore -d through the grains: an embedded single-node cluster in this process, a coordinator for the
/// job, this silo's worker with -j slots, and the target host's budget.
/// </summary>
internal static class ParallelRestore
{
    private const string WarningPrefix = "warning: ";

    public static async Task<int> RunAsync(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target,
        int jobs, int hostBudget, bool resume, string progressMode, TelemetryOptions telemetry, CliOutput io)
    {
        DatabaseRestore.RequireRawSql();
        var started = Stopwatch.StartNew();
        await using var cluster = await EmbeddedCluster.StartAsync(telemetry);
        string jobId = $"job-{Guid.NewGuid():N}";
        var spec = new JobSpec(
            jobId, Path.GetFullPath(archive.DisplayName), target.Values, options.ToJobOptions(),
            ReferenceEquals(order, archive.Entries) ? null : order.Select(e => e.DumpId).ToList(), jobs, hostBudget, resume);
        var budget = cluster.Grains.GetGrain<IHostBudgetGrain>(HostKey.For(target));
        await budget.SetBudget(hostBudget);
        var coordinator = cluster.Grains.GetGrain<ICoordinatorGrain>(jobId);
        await coordinator.Start(spec);
        await cluster.Grains.GetGrain<IWorkerGrain>(cluster.SiloName).Join(jobId, jobs);

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var progress = ProgressReporter.Create(progressMode, io);
            int printedErrors = 0;
            JobStatus status;
            while (true)
            {
                status = await coordinator.Status();
                for (; printedErrors < status.ErrorMessages.Count; printedErrors++)
                {
                    // A retried unit's lost session is a warning; errors are counted failures.
                    string message = status.ErrorMessages[printedErrors];
                    if (message.StartsWith(WarningPrefix, StringComparison.Ordinal))
                    {
                        io.Warn(message[WarningPrefix.Length..]);
                    }
                    else
                    {
                        io.Fail(message);
                    }
                }

                progress.Report(status, await budget.Status(), started.Elapsed);
                if (status.State is not (JobState.Running or JobState.NotStarted))
                {
                    break;
                }

                if (cancel.IsCancellationRequested)
                {
                    await coordinator.Cancel();
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }

            // Let the worker's slots notice the end and hand back their sessions.
            var worker = cluster.Grains.GetGrain<IWorkerGrain>(cluster.SiloName);
            for (int i = 0; i < 100 && await worker.Running() > 0; i++)
            {
                await Task.Delay(50);
            }

            progress.Finish(status, started.Elapsed);
            switch (status.State)
            {
                case JobState.Succeeded:
                    return ExitCodes.Success;
                case JobState.CompletedWithErrors:
                    io.Warn($"errors ignored on restore: {status.Errors}");
                    return ExitCodes.Failure;
                case JobState.Cancelled:
                    io.Fail($"restore cancelled; the journal in the target keeps what was done: rerun with --resume to continue");
                    return ExitCodes.Failure;
                default:
                    io.Fail(status.Message ?? "the restore failed");
                    return ExitCodes.Failure;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
