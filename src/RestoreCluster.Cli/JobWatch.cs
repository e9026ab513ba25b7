using System.Diagnostics;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary>
/// Follows one job until it ends: its messages (errors, warnings, -v lines) and the progress display, from the
/// embedded silo (<c>restore</c>) or through a cluster client (<c>restore --cluster</c>, <c>wait</c>). Ctrl-C either
/// cancels the job (embedded: the process is the cluster) or detaches from it (the cluster's job goes on).
/// </summary>
internal static class JobWatch
{
    private const string WarningPrefix = "warning: ";

    /// <summary>What Ctrl-C does while a job is followed.</summary>
    public enum OnInterrupt
    {
        Cancel,
        Detach,
    }

    /// <summary>The job's last status, or null when Ctrl-C detached from it.</summary>
    public static async Task<JobStatus?> FollowAsync(
        ICoordinatorGrain coordinator, IHostBudgetGrain budget, string progressMode, TimeSpan stallWarning, string hostLabel,
        CliOutput io, RestoreLogs? logs, Stopwatch started, OnInterrupt onInterrupt, Func<JobStatus, Task>? ended = null)
    {
        using var ctrlC = new CtrlC();
        var stderrLine = logs?.StderrLine;
        try
        {
            await using var progress = ProgressReporter.Create(progressMode, io, hostLabel);
            // While the display runs, log records on stderr go above it, as the restore's own lines do.
            if (logs is not null)
            {
                logs.StderrLine = progress.WriteLine;
            }

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
            int unanswered = 0;
            var cancelled = Task.Delay(Timeout.Infinite, ctrlC.Token);
            JobStatus status;
            while (true)
            {
                var next = coordinator.WaitStatus(news, messagesFrom, wait);
                if (await Task.WhenAny(next, cancelled) == cancelled && !next.IsCompleted)
                {
                    if (onInterrupt == OnInterrupt.Detach)
                    {
                        return null;
                    }

                    // Ctrl-C: the coordinator stops the job; its news ends the wait.
                    await coordinator.Cancel();
                }

                // A coordinator whose silo died does not answer (an external client's call waits out its whole
                // timeout): after the wait and a margin, ask again, which takes the job up on a live silo.
                if (await AnsweredAsync(next, wait + AnswerMargin) is not { } answer)
                {
                    if (++unanswered > MaxUnanswered)
                    {
                        throw new TimeoutException($"the job's coordinator did not answer {MaxUnanswered} times in a row");
                    }

                    news = -1;
                    continue;
                }

                unanswered = 0;
                status = answer;
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

                if (await AnsweredAsync(budget.Status(), AnswerMargin) is { } host)
                {
                    progress.Report(status, host, started.Elapsed);
                }
                if (status.State is not (JobState.Running or JobState.NotStarted))
                {
                    break;
                }

                if (ctrlC.Pressed)
                {
                    if (onInterrupt == OnInterrupt.Detach)
                    {
                        return null;
                    }

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

            if (ended is not null)
            {
                await ended(status);
            }

            await progress.FinishAsync(status, started.Elapsed);
            return status;
        }
        finally
        {
            if (logs is not null)
            {
                logs.StderrLine = stderrLine!;
            }
        }
    }

    private static readonly TimeSpan AnswerMargin = TimeSpan.FromSeconds(10);
    private const int MaxUnanswered = 30;

    // The call's answer, or null when its grain's silo is gone (no answer in time, or the silo is unavailable).
    private static async Task<T?> AnsweredAsync<T>(Task<T> call, TimeSpan within)
        where T : class
    {
        try
        {
            return await call.WaitAsync(within);
        }
        catch (Exception e) when (RestoreCluster.Grains.SlotRecovery.IsGrainUnreachable(e) || e is OperationCanceledException)
        {
            // (A call through a gateway whose silo was killed ends cancelled: the client drops it with the connection.)
            // The abandoned call ends later with its own timeout: observed here, never thrown.
            _ = call.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return null;
        }
    }

    /// <summary>The exit code of a job that ended, with restore's last line: pg_restore's, or the failure.</summary>
    public static int Exit(JobStatus status, CliOutput io, string cancelled)
    {
        switch (status.State)
        {
            case JobState.Succeeded:
                return ExitCodes.Success;
            case JobState.CompletedWithErrors:
                io.Warn($"errors ignored on restore: {status.Errors}");
                return ExitCodes.Failure;
            case JobState.Cancelled:
                io.Fail(cancelled);
                return ExitCodes.Failure;
            default:
                io.Fail(status.Message ?? "the restore failed");
                return ExitCodes.Failure;
        }
    }
}
