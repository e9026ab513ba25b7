using RestoreCluster.Grains;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The decision behind a silo that cannot read a job's archive: the job goes on while a live silo can read it (or has
/// not said), and fails in one line naming the archive and each silo's reason once none can.
/// </summary>
public sealed class ArchiveReachTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheJobGoesOnWhileALiveSiloCanReadTheArchiveOrHasNotSaid()
    {
        var reach = new ArchiveReach();
        Assert.True(reach.Report("s1", "could not open input file \"/a/x.dump\": no such file", T0));

        Assert.Null(reach.NoneCanRead("/a/x.dump", ["s0", "s1"]));
        var blind = Assert.Single(reach.Unreadable(["s0", "s1"]));
        Assert.Equal(("s1", T0), (blind.Silo, blind.Since));
    }

    [Fact]
    public void WhenNoLiveSiloCanReadTheArchiveTheJobFailsInOneLineNamingItAndTheSilos()
    {
        var reach = new ArchiveReach();
        reach.Report("s1", "no such file", T0);
        reach.Report("s0", "permission denied", T0);

        Assert.Equal("no live silo can read the archive \"/a/x.dump\" (s0: permission denied; s1: no such file)", reach.NoneCanRead("/a/x.dump", ["s0", "s1"]));
    }

    [Fact]
    public void ASiloThatCouldReadTheArchiveDyingLeavesTheBlindOnesAloneAndTheJobFails()
    {
        var reach = new ArchiveReach();
        reach.Report("s1", "no such file", T0);

        Assert.Null(reach.NoneCanRead("/a/x.dump", ["s0", "s1"]));
        Assert.NotNull(reach.NoneCanRead("/a/x.dump", ["s1"]));
        // A blind silo that died is no longer shown, and no live silo at all is no verdict.
        Assert.Empty(reach.Unreadable(["s0"]));
        Assert.Null(reach.NoneCanRead("/a/x.dump", []));
    }

    [Fact]
    public void ASiloThatReadsTheArchiveAgainIsForgottenAndARepeatedReasonKeepsItsFirstTime()
    {
        var reach = new ArchiveReach();
        reach.Report("s1", "no such file", T0);

        Assert.False(reach.Report("s1", "no such file", T0.AddMinutes(1)));
        Assert.Equal(T0, Assert.Single(reach.Unreadable(["s1"])).Since);
        Assert.True(reach.Report("s1", null, T0.AddMinutes(2)));
        Assert.True(reach.AllRead);
        Assert.Null(reach.NoneCanRead("/a/x.dump", ["s1"]));
        Assert.False(reach.Report("s1", null, T0.AddMinutes(3)));
    }

    [Fact]
    public void CheckSaysWhyAMissingArchiveCannotBeReadAndNothingForOneThatOpens()
    {
        string folder = Directory.CreateTempSubdirectory("restorecluster-reach-").FullName;
        try
        {
            string missing = Path.Combine(folder, "missing.dump");
            string notAnArchive = Path.Combine(folder, "text.dump");
            File.WriteAllText(notAnArchive, "hello\n");

            Assert.Contains("missing.dump", ArchiveReach.Check(missing), StringComparison.Ordinal);
            string? reason = ArchiveReach.Check(notAnArchive);
            Assert.NotNull(reason);
            Assert.DoesNotContain('\n', reason);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
