namespace RestoreCluster.Archive;

/// <summary>
/// The archive's creation time as pg_restore prints it: the stored fields go through mktime() in the
/// process's time zone and come back through strftime("%Y-%m-%d %H:%M:%S %Z").
/// </summary>
public static class ArchiveTimestamp
{
    // The process's zone is read once (the TZ variable and the zone file), not for each timestamp.
    private static readonly Lazy<LocalTimeZone> Zone = new(LocalTimeZone.FromEnvironment);

    public static string Format(ArchiveCreationTime c) =>
        Zone.Value.FormatArchiveTimestamp(c.Second, c.Minute, c.Hour, c.Day, c.Month, c.Year, c.IsDst);

    /// <summary>True when mktime() rejects the stored fields (pg_restore warns "invalid creation date in header").</summary>
    public static bool IsInvalid(ArchiveCreationTime c) =>
        Zone.Value.MakeTime(c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second, c.IsDst) is null or -1;

    /// <summary>The current time as pg_restore -v prints "Completed on": strftime("%Y-%m-%d %H:%M:%S %Z").</summary>
    public static string Now()
    {
        var zone = Zone.Value;
        return zone.TryConvert(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), out var b) ? LocalTimeZone.Format(b) : "[unknown]";
    }
}
