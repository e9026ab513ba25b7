using RestoreCluster.Hosting;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>The health decision behind a silo's /healthz: only an active silo that is not stopping is ready.</summary>
public sealed class SiloHealthTests
{
    [Theory]
    [InlineData(SiloStatus.Created, false, SiloHealthState.Starting)]
    [InlineData(SiloStatus.Joining, false, SiloHealthState.Starting)]
    [InlineData(SiloStatus.Active, false, SiloHealthState.Active)]
    [InlineData(SiloStatus.Active, true, SiloHealthState.Draining)]
    [InlineData(SiloStatus.Joining, true, SiloHealthState.Draining)]
    [InlineData(SiloStatus.ShuttingDown, false, SiloHealthState.Draining)]
    [InlineData(SiloStatus.Stopping, false, SiloHealthState.Draining)]
    [InlineData(SiloStatus.Dead, false, SiloHealthState.Draining)]
    public void OnlyAnActiveSiloThatIsNotStoppingIsReady(SiloStatus membership, bool stopping, SiloHealthState expected) =>
        Assert.Equal(expected, SiloHealth.Of(membership, stopping));
}
