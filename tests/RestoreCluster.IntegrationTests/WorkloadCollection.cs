using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The tests that restore the generated workload run one at a time: each measures sessions or timings on
/// the shared server, which a concurrent restore of hundreds of megabytes would distort.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WorkloadCollection
{
    public const string Name = "workload restores";
}
