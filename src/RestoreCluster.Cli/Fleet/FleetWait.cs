using System.Globalization;
using System.Text;
using RestoreCluster.Cli.Cluster;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli.Fleet;

/// <summary>
/// <c>wait FLEET</c>: follows every job of a fleet until each has ended, and prints one line per job as it ends: its
/// id, state, time, errors, where it went, and the reason where it failed or was cancelled. Exit 0 only when every job
/// succeeded. The jobs are independent: one that fails stops none of the others, and the wait goes on for them.
/// </summary>
internal static class FleetWait
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(ClusterClient cluster, string fleetId, IReadOnlyList<JobEntry> jobs, CliOutput io)
    {
        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false)) { AutoFlush = true };
        var gate = new SemaphoreSlim(1);
        var ends = await Task.WhenAll(jobs.Select(async job =>
        {
            var status = await FollowAsync(cluster.Grains.GetGrain<ICoordinatorGrain>(job.JobId));
            await gate.WaitAsync();
            try
            {
                await stdout.WriteLineAsync(Line(job, status));
            }
            finally
            {
                gate.Release();
            }

            return status.State;
        }));
        int succeeded = ends.Count(s => s == JobState.Succeeded);
        if (succeeded < ends.Length)
        {
            io.Fail($"fleet {fleetId}: {ends.Length - succeeded} of {ends.Length} jobs did not succeed");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }

    /// <summary>A job's line once it ended: <c>JOB  done  12.3 s  0 errors  ARCHIVE -> TARGET</c>, then <c>: REASON</c> where it failed.</summary>
    public static string Line(JobEntry job, JobStatus status)
    {
        double seconds = status.PhaseSeconds.PreData + status.PhaseSeconds.Data + status.PhaseSeconds.PostData;
        string reason = status.State switch
        {
            JobState.Failed => $": {status.Message ?? "the restore failed"}",
            JobState.Cancelled => $": {status.Message ?? "cancelled"}",
            _ => "",
        };
        return string.Create(CultureInfo.InvariantCulture,
            $"{job.JobId}  {StatusCommand.StateName(status.State)}  {seconds:0.0} s  {status.Errors} error{(status.Errors == 1 ? "" : "s")}  {job.Archive} -> {job.Target}{reason}").ReplaceLineEndings(" ");
    }

    // Until the job ends: each call returns at the job's news (or after the wait). A coordinator whose silo died is
    // asked again, which takes the job up on a live silo.
    private static async Task<JobStatus> FollowAsync(ICoordinatorGrain coordinator)
    {
        long news = -1;
        int messagesFrom = 0;
        var pause = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            JobStatus status;
            try
            {
                status = await coordinator.WaitStatus(news, messagesFrom, Wait);
            }
            catch (Exception e) when (SlotRecovery.IsGrainUnreachable(e) || e is OperationCanceledException)
            {
                await Task.Delay(pause);
                pause = SlotRecovery.NextPause(pause);
                continue;
            }

            if (status.State is not (JobState.Running or JobState.NotStarted))
            {
                return status;
            }

            news = status.News;
            messagesFrom = status.MessagesNext;
        }
    }
}
