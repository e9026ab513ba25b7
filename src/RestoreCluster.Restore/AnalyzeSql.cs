using System.Text;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// The statements of <c>--analyze</c> (docs/restore.md, "Ready to serve"). What is analyzed is what
/// <c>vacuumdb --analyze-only</c> (15) analyzes: every relation of the database whose relkind is <c>r</c> (a table)
/// or <c>m</c> (a materialized view), in every schema, the system catalogs included; not partitioned tables (their
/// partitions are tables), views, foreign tables, sequences or other sessions' temporary tables. Each statement is
/// one <c>DO</c> block, which may run inside a transaction (ANALYZE may; VACUUM may not): a unit's, or <c>-1</c>'s.
/// </summary>
public static class AnalyzeSql
{
    private const string RelKinds = "c.relkind IN ('r', 'm') AND c.relpersistence <> 't'";

    /// <summary>ANALYZE of one relation of the archive, if it is there and of a kind vacuumdb analyzes (a failed CREATE leaves nothing to analyze).</summary>
    public static string Relation(TocEntry relation)
    {
        ArgumentNullException.ThrowIfNull(relation);
        string ns = Literal(relation.Namespace ?? "");
        string name = Literal(relation.Tag);
        return Block(
            $"BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
            $"WHERE n.nspname = {ns} AND c.relname = {name} AND {RelKinds}) THEN " +
            $"EXECUTE pg_catalog.format('ANALYZE %I.%I', {ns}, {name}); END IF; END");
    }

    /// <summary>
    /// ANALYZE of every relation vacuumdb would analyze but <paramref name="analyzed"/> (the units' relations, done
    /// already), largest first as vacuumdb orders them: the catalogs, and whatever the database held besides the archive.
    /// </summary>
    public static string Rest(IEnumerable<TocEntry> analyzed)
    {
        ArgumentNullException.ThrowIfNull(analyzed);
        var list = analyzed.ToList();
        string schemas = string.Join(", ", list.Select(te => Literal(te.Namespace ?? "")));
        string names = string.Join(", ", list.Select(te => Literal(te.Tag)));
        return Block(
            "DECLARE r record; BEGIN FOR r IN SELECT n.nspname, c.relname FROM pg_catalog.pg_class c " +
            $"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE {RelKinds} AND (n.nspname, c.relname) NOT IN " +
            $"(SELECT s, t FROM ROWS FROM (pg_catalog.unnest(ARRAY[{schemas}]::text[]), pg_catalog.unnest(ARRAY[{names}]::text[])) AS done(s, t)) " +
            "ORDER BY c.relpages DESC LOOP EXECUTE pg_catalog.format('ANALYZE %I.%I', r.nspname, r.relname); END LOOP; END");
    }

    // E'' reads the same whatever standard_conforming_strings is (the archive's setting).
    private static string Literal(string value) =>
        "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    // A dollar quote the body does not contain.
    private static string Block(string body)
    {
        string tag = "$rc$";
        for (int i = 1; body.Contains(tag, StringComparison.Ordinal); i++)
        {
            tag = $"$rc{i}$";
        }

        return new StringBuilder("DO ").Append(tag).Append(body).Append(tag).ToString();
    }
}
