using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace RestoreCluster.Hosting;

/// <summary>
/// The two Orleans records an ordinary embedded run writes every time, which say nothing true about it; both
/// log destinations drop them, and only them (docs/telemetry.md, "Logs"):
/// <list type="bullet">
/// <item><c>Orleans.Runtime.Silo</c>, event <see cref="SiloGcWarning"/>: "Note: Silo not running with ServerGC"
/// (and its "ServerGC only kicks in" companion). The CLI runs workstation GC on purpose: it shares the
/// machine's cores with the PostgreSQL server it restores into.</item>
/// <item><c>Orleans.Runtime.Watchdog</c>, "Participant check thread has not completed for T" with T longer than
/// this process has lived: the silo's first check measures from a timestamp its participant check has not set
/// yet, so T is the machine's uptime. A real stall, shorter than the process's life, is kept.</item>
/// </list>
/// </summary>
internal static class OrleansNoise
{
    /// <summary>Orleans' ErrorCode.SiloGcWarning, the event id of its records (read from Orleans 10.4's log).</summary>
    public const int SiloGcWarning = 100405;

    private const string ParticipantStall = "Participant check thread has not completed";

    private static readonly DateTime ProcessStarted = StartTime();

    public static bool Matches<TState>(string category, EventId eventId, TState state)
    {
        switch (category)
        {
            case "Orleans.Runtime.Silo":
                return eventId.Id == SiloGcWarning;
            case "Orleans.Runtime.Watchdog":
                return state is IReadOnlyList<KeyValuePair<string, object?>> values
                    && Value(values, "{OriginalFormat}") is string format && format.StartsWith(ParticipantStall, StringComparison.Ordinal)
                    && Value(values, "TimeSinceLastTick") is TimeSpan stalled && stalled > DateTime.UtcNow - ProcessStarted;
            default:
                return false;
        }
    }

    private static DateTime StartTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.StartTime.ToUniversalTime();
    }

    private static object? Value(IReadOnlyList<KeyValuePair<string, object?>> values, string key)
    {
        foreach (var (k, v) in values)
        {
            if (k == key)
            {
                return v;
            }
        }

        return null;
    }
}
