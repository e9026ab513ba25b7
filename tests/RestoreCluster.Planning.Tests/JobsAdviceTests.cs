using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

public sealed class JobsAdviceTests
{
    private static TrialRun Run(int jobs, double seconds, bool finished = true, params (string Key, double Share)[] waits) =>
        new(jobs, seconds, finished, waits.ToDictionary(w => w.Key, w => w.Share));

    [Fact]
    public void TheFewestJobsWithinFivePercentOfTheFastestAreRecommendedWithTheWaitAboveThem()
    {
        var advice = JobsAdvice.Recommend(
        [
            Run(1, 40), Run(2, 22), Run(4, 20.5, true, ("IO:DataFileWrite", 0.3), ("CPU", 0.5)),
            Run(8, 20, true, ("IO:DataFileWrite", 0.7), ("LWLock:WALWrite", 0.1), ("CPU", 0.2)),
        ]);

        Assert.Equal(4, advice.Jobs);
        Assert.Equal(4, advice.HostBudget);
        Assert.Equal("above 4 jobs, 70% of session time waits on DataFileWrite; 4 is within 5% of the fastest (8 jobs, 20.0 s)", advice.Reason);
    }

    [Fact]
    public void TheFastestIsChosenWhenNothingWithFewerJobsComesClose()
    {
        var advice = JobsAdvice.Recommend([Run(1, 30), Run(2, 16, true, ("CPU", 0.9)), Run(4, 18, true, ("CPU", 0.8), ("Client:ClientRead", 0.15))]);

        Assert.Equal(2, advice.Jobs);
        Assert.Equal("above 2 jobs, 15% of session time waits on ClientRead; 2 jobs was the fastest (16.0 s)", advice.Reason);
    }

    [Fact]
    public void RunsThatDidNotFinishAreNeverRecommended()
    {
        var advice = JobsAdvice.Recommend([Run(1, 40), Run(2, 5, finished: false), Run(4, 29, true, ("CPU", 1.0))]);

        Assert.Equal(4, advice.Jobs);
        Assert.Contains("4 jobs was the fastest (29.0 s)", advice.Reason);
    }

    [Fact]
    public void TheMostJobsTriedBeingFastestSaysMoreMayHelp()
    {
        var advice = JobsAdvice.Recommend([Run(1, 30), Run(2, 16)]);

        Assert.Equal(2, advice.Jobs);
        Assert.Equal("2 jobs was the fastest (16.0 s), and it was the most jobs tried: more may be faster still", advice.Reason);
    }

    [Fact]
    public void CpuIsNamedOnlyWhenNoSessionWaited()
    {
        var advice = JobsAdvice.Recommend([Run(1, 10), Run(2, 10.2, true, ("CPU", 0.95))]);

        Assert.Equal(1, advice.Jobs);
        Assert.Equal("above 1 job, 95% of session time is the server's CPU; 1 job was the fastest (10.0 s)", advice.Reason);
    }

    [Fact]
    public void NoFinishedRunMeansNoAdvice()
    {
        var advice = JobsAdvice.Recommend([Run(1, 3, finished: false)]);

        Assert.Null(advice.Jobs);
        Assert.Null(advice.HostBudget);
        Assert.Equal("no trial restore finished: nothing to recommend", advice.Reason);
    }

    [Fact]
    public void OneFinishedRunIsTheAdviceAndSaysSo()
    {
        var advice = JobsAdvice.Recommend([Run(4, 12.34)]);

        Assert.Equal(4, advice.Jobs);
        Assert.Equal("4 jobs, the only -j that finished, took 12.3 s", advice.Reason);
    }
}
