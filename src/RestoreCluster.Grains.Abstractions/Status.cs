namespace RestoreCluster.Grains.Abstractions;

/// <summary>Where a job stands.</summary>
[GenerateSerializer, Alias("RestoreCluster.JobState")]
public enum JobState
{
    NotStarted = 0,
    Running = 1,
    Succeeded = 2,
    CompletedWithErrors = 3,
    Failed = 4,
    Cancelled = 5,
}

/// <summary>A job's progress: units and table-data bytes done of the plan's totals, errors, retries.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.JobStatus")]
public sealed record JobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] int UnitsDone,
    [property: Id(3)] int UnitsTotal,
    [property: Id(4)] long BytesDone,
    [property: Id(5)] long BytesTotal,
    [property: Id(6)] int Errors,
    [property: Id(7)] int Retries,
    [property: Id(8)] int Leased,
    [property: Id(9)] string? Message,
    [property: Id(10)] IReadOnlyList<string> ErrorMessages);

/// <summary>A target host's budget and use.</summary>
[GenerateSerializer, Immutable, Alias("RestoreCluster.HostStatus")]
public sealed record HostStatus(
    [property: Id(0)] string Host,
    [property: Id(1)] int Budget,
    [property: Id(2)] int InFlight,
    [property: Id(3)] int Waiting);
