namespace RestoreCluster.Archive;

/// <summary>
/// The archive's creation time as pg_restore prints it: the stored fields go through mktime() in the
/// process's time zone and come back through strftime("%Y-%m-%d %H:%M:%S %Z").
/// </summary>
public static class ArchiveTimestamp
{
    public static string Format(ArchiveCreationTime c) =>
        LocalTimeZone.FromEnvironment().FormatArchiveTimestamp(c.Second, c.Minute, c.Hour, c.Day, c.Month, c.Year, c.IsDst);
}
