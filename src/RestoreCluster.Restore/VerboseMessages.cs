using System.Globalization;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// What <c>-v</c> prints: pg_restore 15's informational messages (pg_log_info in pg_backup_archiver.c and
/// pg_backup_tar.c), worded in one place. The CLI prints each as one line after its program name. Among a
/// unit's messages (errors, and warnings marked "warning: ") they travel marked with <see cref="Marker"/>, so
/// they keep their place between the errors of the unit and the coordinator can keep them apart from errors.
/// </summary>
public static class VerboseMessages
{
    /// <summary>Marks a verbose line among a unit's messages.</summary>
    public const string Marker = "info: ";

    public const string ConnectingForRestore = "connecting to database for restore";

    /// <summary>
    /// RestoreArchive's line when no entry's schema part is selected: pg_restore 15's words for a 1.14 archive, pg_restore
    /// 18's ("implied no-schema restore", the same decision under its new option name) for 1.15 and 1.16 archives, as
    /// the rest of their restore follows pg_restore 18 (<see cref="RestoreEmitter.FollowsPgRestore18"/>).
    /// </summary>
    public static string ImpliedDataOnly(PgArchive archive) =>
        RestoreEmitter.FollowsPgRestore18(archive) ? "implied no-schema restore" : "implied data-only restore";

    public const string EnteringMainLoop = "entering main parallel loop";

    public const string FinishedMainLoop = "finished main parallel loop";

    public static string Mark(string line) => Marker + line;

    public static bool IsMarked(string message) => message.StartsWith(Marker, StringComparison.Ordinal);

    public static string Unmark(string message) => message[Marker.Length..];

    // restore_toc_entry: "Show namespace in log message if available" (a NULL namespace, not an empty one).
    public static string Creating(TocEntry te) =>
        te.Namespace is not null ? $"creating {te.Desc} \"{te.Namespace}.{te.Tag}\"" : $"creating {te.Desc} \"{te.Tag}\"";

    public static string ConnectingToNewDatabase(TocEntry te) => $"connecting to new database \"{te.Tag}\"";

    // glibc prints a NULL %s as "(null)"; pg_dump always gives table data a schema.
    public static string ProcessingData(TocEntry te) => $"processing data for table \"{te.Namespace ?? "(null)"}.{te.Tag}\"";

    /// <summary>The data part of a BLOBS or BLOB COMMENTS entry.</summary>
    public static string Processing(TocEntry te) => $"processing {te.Desc}";

    /// <summary>An entry with data but no dumper of its own (SEQUENCE SET, BLOB, ...) in a data-only restore.</summary>
    public static string Executing(TocEntry te) => $"executing {te.Desc} {te.Tag}";

    public static string Dropping(TocEntry te) => $"dropping {te.Desc} {te.Tag}";

    public static string DisablingTriggers(TocEntry te) => $"disabling triggers for {te.Tag}";

    public static string EnablingTriggers(TocEntry te) => $"enabling triggers for {te.Tag}";

    public static string TableNotCreated(TocEntry table) => $"table \"{table.Tag}\" could not be created, will not restore its data";

    public static string RestoringLargeObject(uint oid) => string.Create(CultureInfo.InvariantCulture, $"restoring large object with OID {oid}");

    // ngettext with the English catalog: the singular for exactly one.
    public static string RestoredLargeObjects(int count) => count == 1
        ? "restored 1 large object"
        : string.Create(CultureInfo.InvariantCulture, $"restored {count} large objects");

    /// <summary>-j: an entry the leader restores before the workers start (restore_toc_entries_prefork).</summary>
    public static string ProcessingItem(int dumpId, string desc, string tag) => Item("processing item", dumpId, desc, tag);

    /// <summary>-j: an entry handed to a worker.</summary>
    public static string LaunchingItem(int dumpId, string desc, string tag) => Item("launching item", dumpId, desc, tag);

    /// <summary>-j: a worker's entry is done.</summary>
    public static string FinishedItem(int dumpId, string desc, string tag) => Item("finished item", dumpId, desc, tag);

    /// <summary>-j: an entry with nothing selected, done without a worker.</summary>
    public static string SkippingItem(int dumpId, string desc, string tag) => Item("skipping item", dumpId, desc, tag);

    /// <summary>-j: an entry left after the last pass, restored by the leader (restore_toc_entries_postfork).</summary>
    public static string ProcessingMissedItem(int dumpId, string desc, string tag) => Item("processing missed item", dumpId, desc, tag);

    private static string Item(string what, int dumpId, string desc, string tag) =>
        string.Create(CultureInfo.InvariantCulture, $"{what} {dumpId} {desc} {tag}");
}
