using Microsoft.Extensions.Logging;

namespace RestoreCluster.Grains;

public sealed partial class HostBudgetGrain
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "permit {PermitId} of {Owner} lapsed without renewal (noticed {Late:0} ms after): its slot stopped renewing (hung, gone or cut off); the budget is free for others")]
        public static partial void PermitLapsed(ILogger logger, string permitId, string owner, double late);

        [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "renewal of permit {PermitId} refused: it lapsed or was released")]
        public static partial void RenewalRefused(ILogger logger, string permitId);

        [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "host {Host}: budget set to {Budget} permits")]
        public static partial void BudgetSet(ILogger logger, string host, int budget);

        [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "permit {PermitId} went back at its batch's end: {Held} permits held over a budget of {Budget}")]
        public static partial void PermitOverBudget(ILogger logger, string permitId, int held, int budget);

        [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "host {Host}: adaptive budget {Spec}, starting at {Budget} sessions ({Units} for units)")]
        public static partial void AdaptiveSet(ILogger logger, string host, string spec, int budget, int units);

        [LoggerMessage(EventId = 305, Level = LogLevel.Information, Message = "host {Host}: budget now {Budget} sessions ({Units} for units): {Reason}")]
        public static partial void AdaptiveChanged(ILogger logger, string host, int budget, int units, string reason);

        [LoggerMessage(EventId = 306, Level = LogLevel.Warning, Message = "host {Host}: the budget's probe failed (counted as a slow probe until it answers again): {Reason}")]
        public static partial void ProbeFailed(ILogger logger, string host, string reason);
    }
}
