using System.Diagnostics;
using RestoreCluster.Archive;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary>
/// restore -d through the grains: an embedded single-node cluster in this process, a coordinator for the
/// job, this silo's worker with -j slots, and the target host's budget. The whole job is one span, the parent
/// of every unit's span (docs/telemetry.md).
/// </summary>
internal static class ParallelRestore
{
    private const string WarningPrefix = "warning: ";

    public static async Task<int> RunAsync(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target,
        int jobs, int hostBudget, bool resume, string progressMode, TimeSpan stallWarning, TelemetryOptions telemetry, CliOutput io,
        RestoreLogs logs)
    {
        DatabaseRestore.RequireRawSql();
        if (options.Verbose)
        {
            io.Info(VerboseMessages.ConnectingForRestore);
        }

        var started = Stopwatch.StartNew();
        // The target's identity first: a target that cannot be reached (a wrong password, say) fails in one line
        // before any silo starts, and no silo is stopped half started.
        string hostKey = await Task.Run(() => HostIdentity.Resolve(target, io.Warn));
        await using var cluster = await EmbeddedCluster.StartAsync(telemetry, logs.AddTo);
        string jobId = $"job-{Guid.NewGuid():N}";
        string archivePath = Path.GetFullPath(archive.DisplayName);
        // Started once the cluster (and its tracer provider) runs: before, nobody listens and it is not recorded.
        using var job = GrainInstruments.StartJob(jobId, archivePath, jobs, hostBudget);
        var spec = new JobSpec(
            jobId, archivePath, target.Values, options.ToJobOptions(),
            ReferenceEquals(order, archive.Entries) ? null : order.Select(e => e.DumpId).ToList(), jobs, hostBudget, resume, job?.Id, hostKey);
        var budget = cluster.Grains.GetGrain<IHostBudgetGrain>(hostKey);
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
        var stderrLine = logs.StderrLine;
        try
        {
            await using var progress = ProgressReporter.Create(progressMode, io, target.HostLabel);
            // While the display runs, log records on stderr go above it, as the restore's own lines do.
            logs.StderrLine = progress.WriteLine;
            int messagesFrom = 0;
            int printedProblems = 0;
            long news = -1;
            // Without a display, only news matters (errors, the end); a display refreshes a few times a second.
            var wait = progressMode == "none" ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(250);
            if (stallWarning > TimeSpan.Zero && stallWarning / 2 < wait)
            {
                wait = stallWarning / 2;
            }

            var stall = new StallWatch(stallWarning);
            var cancelled = Task.Delay(Timeout.Infinite, cancel.Token);
            JobStatus status;
            while (true)
            {
                var next = coordinator.WaitStatus(news, messagesFrom, wait);
                if (await Task.WhenAny(next, cancelled) == cancelled && !next.IsCompleted)
                {
                    // Ctrl-C: the coordinator stops the job; its news ends the wait.
                    await coordinator.Cancel();
                }

                status = await next;
                news = status.News;
                foreach (string message in status.ErrorMessages)
                {
                    // -v lines are pg_restore's messages; a retried unit's lost session is a warning; errors are
                    // counted failures.
                    if (VerboseMessages.IsMarked(message))
                    {
                        progress.Info(VerboseMessages.Unmark(message));
                        continue;
                    }

                    if (message.StartsWith(WarningPrefix, StringComparison.Ordinal))
                    {
                        progress.Warning(message[WarningPrefix.Length..]);
                    }
                    else
                    {
                        progress.Error(message);
                    }

                    printedProblems++;
                }

                messagesFrom = status.MessagesNext;
                if (stall.Check(status) is { } stalled)
                {
                    progress.Warning(stalled);
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
            }

            if (status.MessageCount > printedProblems)
            {
                progress.Warning($"{status.MessageCount - printedProblems} more error messages were not kept (the count above includes them)");
            }

            if (status.VerboseDropped > 0)
            {
                progress.Warning($"{status.VerboseDropped} verbose messages were not kept (they came faster than they were printed)");
            }

            // Let the worker's slots notice the end and hand back their sessions.
            var worker = cluster.Grains.GetGrain<IWorkerGrain>(cluster.SiloName);
            for (int i = 0; i < 100 && await worker.Running() > 0; i++)
            {
                await Task.Delay(50);
            }

            await progress.FinishAsync(status, started.Elapsed);
            Describe(job, status);
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
            logs.StderrLine = stderrLine;
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static void Describe(Activity? job, JobStatus status)
    {
        job?.SetTag("restorecluster.state", status.State.ToString().ToLowerInvariant());
        job?.SetTag("restorecluster.units", status.UnitsDone);
        job?.SetTag("restorecluster.bytes", status.BytesDone);
        job?.SetTag("restorecluster.errors", status.Errors);
        job?.SetTag("restorecluster.retries", status.Retries);
        if (status.State is JobState.Failed or JobState.Cancelled)
        {
            job?.SetStatus(ActivityStatusCode.Error, status.Message);
        }
    }
}
