using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>
/// The tests that use or read the grains' process-wide meters (permits in flight per host): one at a time,
/// so one test's permits never show in another's readings.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessMeters
{
    public const string Name = "in-process meters";
}
