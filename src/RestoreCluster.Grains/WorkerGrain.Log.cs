using Microsoft.Extensions.Logging;

namespace RestoreCluster.Grains;

public sealed partial class WorkerGrain
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "worker slot {Slot} failed: job {JobId} is stopped")]
        public static partial void SlotFailed(ILogger logger, Exception exception, string slot, string jobId);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "worker slot {Slot} could not tell the coordinator of job {JobId} that it failed: its leases will lapse")]
        public static partial void AbortNotDelivered(ILogger logger, Exception exception, string slot, string jobId);

        [LoggerMessage(EventId = 202, Level = LogLevel.Error, Message = "worker {Worker} could not work on job {JobId}: the job is stopped")]
        public static partial void JobUnworkable(ILogger logger, Exception exception, string worker, string jobId);

        [LoggerMessage(EventId = 203, Level = LogLevel.Debug, Message = "a batch of {Units} units (unit {UnitId}, lease {LeaseId} first) was stopped and rolled back: a lease or the permit was lost, or the job ended")]
        public static partial void BatchStopped(ILogger logger, int units, int unitId, string leaseId);

        [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "worker slot {Slot} of job {JobId} could not reach a grain ({Exception}): its silo is gone; trying again in {Seconds:0.##} s, which takes the grain up on a live silo")]
        public static partial void GrainUnreachable(ILogger logger, string slot, string jobId, string exception, double seconds);

        [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "silo {Silo} cannot read the archive {Archive} of job {JobId} ({Reason}): it takes none of the job's units, and tries again every {Seconds:0} s")]
        public static partial void ArchiveUnreadable(ILogger logger, string silo, string archive, string jobId, string reason, double seconds);

        [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "silo {Silo} can read the archive {Archive} of job {JobId} again: it takes the job's units")]
        public static partial void ArchiveReadable(ILogger logger, string silo, string archive, string jobId);

        [LoggerMessage(EventId = 207, Level = LogLevel.Information, Message = "a batch of {Units} units (unit {UnitId} first) held its COPY data back {Milliseconds:0} ms in all: host {Host}'s probe was over --protect's limit")]
        public static partial void CopyPaced(ILogger logger, int units, int unitId, double milliseconds, string host);

        [LoggerMessage(EventId = 208, Level = LogLevel.Information, Message = "a batch of {Units} units (unit {UnitId} first) took {TookMilliseconds:0} ms, more than host {Host}'s COPY pace allows: its slot rests {Milliseconds:0} ms before its next unit")]
        public static partial void BatchRests(ILogger logger, int units, int unitId, double milliseconds, double tookMilliseconds, string host);
    }
}
