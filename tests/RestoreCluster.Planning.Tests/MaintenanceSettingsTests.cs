using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>--host-memory's rule: index and key units get SIZE / host budget (never below the server's setting, within
/// PostgreSQL's limits) and the budget's room as parallel workers; other units, or no --host-memory, get nothing.</summary>
public sealed class MaintenanceSettingsTests
{
    private const long GB = 1L << 30;
    private const long ServerDefaultKb = 64 * 1024;

    [Theory]
    [InlineData("INDEX")]
    [InlineData("CONSTRAINT")]
    public void AnIndexBuildGetsItsShareOfTheHostsMemory(string desc)
    {
        var settings = MaintenanceSettings.For(desc, 4 * GB, hostBudget: 4, spareSessions: 0, ServerDefaultKb);

        Assert.Equal(new MaintenanceSettings(1024 * 1024, 0), settings);
        Assert.Equal(["SET LOCAL maintenance_work_mem = '1048576kB'", "SET LOCAL max_parallel_maintenance_workers = 0"], settings!.Sql());
    }

    [Theory]
    [InlineData("TABLE DATA")]
    [InlineData("FK CONSTRAINT")]
    [InlineData("ANALYZE")]
    [InlineData("TABLE")]
    public void UnitsThatBuildNoIndexGetNothing(string desc) =>
        Assert.Null(MaintenanceSettings.For(desc, 4 * GB, 4, 3, ServerDefaultKb));

    [Fact]
    public void WithoutHostMemoryNothingChanges() =>
        Assert.Null(MaintenanceSettings.For("INDEX", 0, 4, 3, ServerDefaultKb));

    [Fact]
    public void AShareBelowTheServersSettingKeepsTheServers()
    {
        // 128 MB over 8 units is 16 MB each; the server gives 64 MB.
        Assert.Equal(ServerDefaultKb, MaintenanceSettings.For("INDEX", 128L << 20, 8, 0, ServerDefaultKb)!.WorkMemKb);
        // A server set below PostgreSQL's least still gets 1 MB (it cannot be, but the clamp holds).
        Assert.Equal(MaintenanceSettings.MinWorkMemKb, MaintenanceSettings.For("INDEX", 1 << 20, 8, 0, 0)!.WorkMemKb);
    }

    [Fact]
    public void AHugeShareStopsAtPostgresLimit() =>
        Assert.Equal(MaintenanceSettings.MaxWorkMemKb, MaintenanceSettings.For("INDEX", 64L << 40, 1, 0, ServerDefaultKb)!.WorkMemKb);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 3)]
    [InlineData(-2, 0)]
    [InlineData(5000, MaintenanceSettings.MaxParallelWorkers)]
    public void TheBudgetsRoomBecomesParallelWorkers(int spare, int workers) =>
        Assert.Equal(workers, MaintenanceSettings.For("INDEX", 4 * GB, 4, spare, ServerDefaultKb)!.ParallelWorkers);

    [Fact]
    public void ABudgetBelowOneCountsAsOne() =>
        Assert.Equal(4L * 1024 * 1024, MaintenanceSettings.For("INDEX", 4 * GB, 0, 0, ServerDefaultKb)!.WorkMemKb);
}
