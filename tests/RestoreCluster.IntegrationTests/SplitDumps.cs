namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Dumps of restores that loaded some tables in concurrent chunks (docs/restore.md, "Split big TABLE DATA"): the rows
/// of such a table may sit in another physical order than pg_restore's, and pg_dump lists them in that order. For
/// those tables only, the rows of each COPY block are compared as a sorted set of lines; everything else as is.
/// </summary>
internal static class SplitDumps
{
    /// <summary>The dump with the rows of each COPY block of the named tables (<c>schema.table</c>) sorted.</summary>
    public static string SortRowsOf(string dump, IReadOnlyCollection<string> tables)
    {
        var lines = dump.Split('\n');
        var result = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            result.Add(lines[i]);
            if (!tables.Any(t => lines[i].StartsWith($"COPY {t} ", StringComparison.Ordinal) && lines[i].EndsWith(" FROM stdin;", StringComparison.Ordinal)))
            {
                continue;
            }

            int end = Array.IndexOf(lines, "\\.", i + 1);
            if (end < 0)
            {
                throw new InvalidOperationException($"the COPY block at line {i + 1} has no end line");
            }

            result.AddRange(lines[(i + 1)..end].Order(StringComparer.Ordinal));
            i = end - 1;
        }

        return string.Join('\n', result);
    }

    /// <summary>Both dumps of <paramref name="o"/> with the split tables' rows sorted, for <see cref="RestoreComparison.AssertSame"/>.</summary>
    public static RestoreComparison.Outcome Sorted(RestoreComparison.Outcome o, IReadOnlyCollection<string> tables) =>
        o with { ReferenceDump = SortRowsOf(o.ReferenceDump, tables), OurDump = SortRowsOf(o.OurDump, tables) };
}
