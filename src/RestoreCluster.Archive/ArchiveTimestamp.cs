namespace RestoreCluster.Archive;

/// <summary>
/// The archive's creation time as pg_restore prints it: the stored fields go through mktime() in the
/// process's time zone and come back through strftime("%Y-%m-%d %H:%M:%S %Z").
/// </summary>
public static class ArchiveTimestamp
{
    public static string Format(ArchiveCreationTime c) =>
        LocalTimeZone.FromEnvironment().FormatArchiveTimestamp(c.Second, c.Minute, c.Hour, c.Day, c.Month, c.Year, c.IsDst);

    /// <summary>True when mktime() rejects the stored fields (pg_restore warns "invalid creation date in header").</summary>
    public static bool IsInvalid(ArchiveCreationTime c) =>
        LocalTimeZone.FromEnvironment().MakeTime(c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second, c.IsDst) is null or -1;

    /// <summary>The current time as pg_restore -v prints "Completed on": strftime("%Y-%m-%d %H:%M:%S %Z").</summary>
    public static string Now()
    {
        var zone = LocalTimeZone.FromEnvironment();
        return zone.TryConvert(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), out var b) ? LocalTimeZone.Format(b) : "[unknown]";
    }
}
