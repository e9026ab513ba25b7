namespace RestoreCluster.Restore;

/// <summary>
/// <c>COPY ... WITH (FREEZE)</c> for a unit that truncated its table in its own transaction (docs/restore.md,
/// "Session settings of units"): the rows are written frozen and all-visible, so the table's first VACUUM has
/// nothing to freeze and its first reads set no hint bits. It changes nothing pg_dump shows.
/// </summary>
internal static class CopyFreeze
{
    // pg_dump writes "COPY name (columns) FROM stdin;\n" (pg_dump.c, dumpTableData_copy); anything else is left alone.
    private const string End = " FROM stdin;";

    /// <summary>A table's data of at least this many archive bytes is truncated before its COPY on a first run too, so it loads frozen.</summary>
    public const long MinBytes = 1 << 20;

    /// <summary>The statement with <c>WITH (FREEZE)</c>, or null when it is not pg_dump's plain COPY FROM stdin.</summary>
    public static string? With(string copyStatement)
    {
        string trimmed = copyStatement.TrimEnd();
        return trimmed.StartsWith("COPY ", StringComparison.Ordinal) && trimmed.EndsWith(End, StringComparison.Ordinal)
            ? string.Concat(trimmed.AsSpan(0, trimmed.Length - 1), " WITH (FREEZE);\n")
            : null;
    }
}
