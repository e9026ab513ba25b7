using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>Turns the restore options into their wire form and back (<see cref="RestoreOptionsJson"/>, the one serialized form).</summary>
public static class JobOptionsMapping
{
    public static JobOptions ToJobOptions(this RestoreOptions options) => new(RestoreOptionsJson.Serialize(options));

    public static RestoreOptions ToRestoreOptions(this JobOptions options) => RestoreOptionsJson.Deserialize(options.Json);
}
