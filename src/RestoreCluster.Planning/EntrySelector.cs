using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>
/// Decides, entry by entry in TOC order, which parts pg_restore would restore: a port of
/// pg_backup_archiver.c _tocEntryRequired as PrintTOCSummary and ProcessArchiveRestoreOptions apply it, in
/// PostgreSQL 18's form (REQ_STATS, --no-policies, --no-data/--no-schema/--statistics-only). Without the 18
/// options and on archives without STATISTICS DATA entries it decides as PostgreSQL 15 does.
/// </summary>
public static class EntrySelector
{
    private static readonly HashSet<string> TableLike =
        ["TABLE", "TABLE DATA", "VIEW", "FOREIGN TABLE", "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA", "SEQUENCE", "SEQUENCE SET"];

    private static readonly HashSet<string> FunctionLike = ["FUNCTION", "AGGREGATE", "PROCEDURE"];

    /// <summary>
    /// The parts of each entry, keyed by dump ID, computed in the given order (the archive's, or the order
    /// a <c>-L</c> list imposed), since an ACL or COMMENT looks at whether its parent was selected.
    /// </summary>
    public static Dictionary<int, RestoreParts> Select(IReadOnlyList<TocEntry> order, PgArchive archive, SelectionOptions options)
        => Select(order, archive, options, touched: null);

    /// <summary>
    /// As <see cref="Select(IReadOnlyList{TocEntry}, PgArchive, SelectionOptions)"/>, recording in
    /// <paramref name="touched"/> every -n/-t/-I/-P/-T name that matched an entry (for --strict-names).
    /// </summary>
    public static Dictionary<int, RestoreParts> Select(
        IReadOnlyList<TocEntry> order, PgArchive archive, SelectionOptions options, HashSet<(NameKind, string)>? touched)
    {
        var reqs = new Dictionary<int, RestoreParts>(order.Count);
        var section = ArchiveSection.PreData;
        foreach (var te in order)
        {
            // An entry of section NONE (COMMENT, ACL) belongs to the section of the entry before it.
            if (te.Section != ArchiveSection.None)
            {
                section = te.Section;
            }

            reqs[te.DumpId] = Required(te, section, archive, options, reqs, touched);
        }

        return reqs;
    }

    private static RestoreParts Required(
        TocEntry te, ArchiveSection section, PgArchive archive, SelectionOptions o, Dictionary<int, RestoreParts> done,
        HashSet<(NameKind, string)>? touched)
    {
        var res = RestoreParts.Schema | RestoreParts.Data;
        string desc = te.Desc;
        if (desc is "ENCODING" or "STDSTRINGS" or "SEARCHPATH")
        {
            return RestoreParts.Special;
        }

        // pg_dump 18 --statistics: the entry's one part is its statistics (REQ_STATS).
        if (desc == "STATISTICS DATA")
        {
            if (!o.DumpStatistics)
            {
                return RestoreParts.None;
            }

            res = RestoreParts.Stats;
        }

        // DATABASE and DATABASE PROPERTIES follow -C alone.
        if (desc is "DATABASE" or "DATABASE PROPERTIES")
        {
            return o.CreateDatabase ? RestoreParts.Schema : RestoreParts.None;
        }

        if (o.NoPrivileges && IsAcl(te))
        {
            return RestoreParts.None;
        }

        // pg_restore 18 also leaves out the comments (and security labels) of what it leaves out, by their tag.
        bool labelOrComment = desc is "COMMENT" or "SECURITY LABEL";
        if ((o.NoComments && desc == "COMMENT")
            || (o.NoPolicies && desc is "POLICY" or "ROW SECURITY")
            || (o.NoPolicies && desc == "COMMENT" && te.Tag.StartsWith("POLICY", StringComparison.Ordinal))
            || (o.NoPublications && desc is "PUBLICATION" or "PUBLICATION TABLE" or "PUBLICATION TABLES IN SCHEMA")
            || (o.NoPublications && labelOrComment && te.Tag.StartsWith("PUBLICATION", StringComparison.Ordinal))
            || (o.NoSecurityLabels && desc == "SECURITY LABEL")
            || (o.NoSubscriptions && labelOrComment && te.Tag.StartsWith("SUBSCRIPTION", StringComparison.Ordinal))
            || (o.NoSubscriptions && desc == "SUBSCRIPTION"))
        {
            return RestoreParts.None;
        }

        var wantedSection = section switch
        {
            ArchiveSection.PreData => RestoreSections.PreData,
            ArchiveSection.Data => RestoreSections.Data,
            ArchiveSection.PostData => RestoreSections.PostData,
            _ => RestoreSections.None,
        };
        if (wantedSection != RestoreSections.None && (o.Sections & wantedSection) == 0)
        {
            return RestoreParts.None;
        }

        if (o.WantedIds is not null && !o.WantedIds.Contains(te.DumpId))
        {
            return RestoreParts.None;
        }

        bool selective = o.SchemaNames.Count > 0 || o.ExcludeSchemaNames.Count > 0 || o.SelectsTypes;
        // Statistics, like ACLs and comments, follow their parent object in a selective restore (18).
        if (desc is "ACL" or "COMMENT" or "STATISTICS DATA" or "SECURITY LABEL")
        {
            if (te.Tag.StartsWith("DATABASE ", StringComparison.Ordinal))
            {
                if (!o.CreateDatabase)
                {
                    return RestoreParts.None;
                }
            }
            else if (selective && !HasSelectedParent(te, archive, done))
            {
                // In a selective restore these follow their parent object; dependencies on other ACLs
                // (per-column ACLs depend on the table's ACL) do not count.
                return RestoreParts.None;
            }
        }
        else if (!PassesNameFilters(te, o, touched))
        {
            return RestoreParts.None;
        }

        if (!te.HadDumper)
        {
            // SEQUENCE SET and everything about large objects count as data.
            bool dataEntry = desc is "SEQUENCE SET" or "BLOB" or "BLOB METADATA"
                || (desc is "ACL" or "COMMENT" or "SECURITY LABEL" && te.Tag.StartsWith("LARGE OBJECT", StringComparison.Ordinal));
            res &= dataEntry ? RestoreParts.Data : ~RestoreParts.Data;
        }

        // No definition, or only the "load via partition root" marker: no schema part.
        if (string.IsNullOrEmpty(te.Defn) || te.Defn.StartsWith("-- load via partition root ", StringComparison.Ordinal))
        {
            res &= ~RestoreParts.Schema;
        }

        // The obsolete <Init> "Max OID" entry is always ignored.
        if (desc == "<Init>" && te.Tag == "Max OID")
        {
            return RestoreParts.None;
        }

        if (!o.DumpData)
        {
            res &= RestoreParts.Schema | RestoreParts.Stats;
        }

        if (!o.DumpSchema)
        {
            res &= RestoreParts.Data | RestoreParts.Stats;
        }

        return res;
    }

    private static bool HasSelectedParent(TocEntry te, PgArchive archive, Dictionary<int, RestoreParts> done)
    {
        foreach (int dep in te.Dependencies)
        {
            var parent = archive.GetEntry(dep);
            if (parent is null || parent.Desc == "ACL")
            {
                continue;
            }

            if (done.TryGetValue(dep, out var parts) && parts != RestoreParts.None)
            {
                return true;
            }
        }

        return false;
    }

    // simple_string_list_member marks each name it finds, which --strict-names checks afterwards.
    private static bool Member(IReadOnlyList<string> list, string value, NameKind kind, HashSet<(NameKind, string)>? touched)
    {
        if (!list.Contains(value))
        {
            return false;
        }

        touched?.Add((kind, value));
        return true;
    }

    private static bool PassesNameFilters(TocEntry te, SelectionOptions o, HashSet<(NameKind, string)>? touched)
    {
        if (o.SchemaNames.Count > 0 && (te.Namespace is null || !Member(o.SchemaNames, te.Namespace, NameKind.Schema, touched)))
        {
            return false;
        }

        if (o.ExcludeSchemaNames.Count > 0 && te.Namespace is not null && o.ExcludeSchemaNames.Contains(te.Namespace))
        {
            return false;
        }

        if (!o.SelectsTypes)
        {
            return true;
        }

        string desc = te.Desc;
        if (TableLike.Contains(desc))
        {
            return o.TableNames.Count > 0 && Member(o.TableNames, te.Tag, NameKind.Table, touched);
        }

        if (desc == "INDEX")
        {
            return o.IndexNames.Count > 0 && Member(o.IndexNames, te.Tag, NameKind.Index, touched);
        }

        if (FunctionLike.Contains(desc))
        {
            return o.FunctionNames.Count > 0 && Member(o.FunctionNames, te.Tag, NameKind.Function, touched);
        }

        if (desc == "TRIGGER")
        {
            return o.TriggerNames.Count > 0 && Member(o.TriggerNames, te.Tag, NameKind.Trigger, touched);
        }

        return false;
    }

    /// <summary>
    /// StrictNamesCheck: the first -n, -t, -I, -P or -T name (in that order of kinds) that matched nothing.
    /// </summary>
    public static string? FirstUnmatchedName(SelectionOptions o, HashSet<(NameKind, string)> touched)
    {
        foreach (var (kind, list, what) in new (NameKind, IReadOnlyList<string>, string)[]
                 {
                     (NameKind.Schema, o.SchemaNames, "schema"), (NameKind.Table, o.TableNames, "table"),
                     (NameKind.Index, o.IndexNames, "index"), (NameKind.Function, o.FunctionNames, "function"),
                     (NameKind.Trigger, o.TriggerNames, "trigger"),
                 })
        {
            foreach (string name in list)
            {
                if (!touched.Contains((kind, name)))
                {
                    return $"{what} \"{name}\" not found";
                }
            }
        }

        return null;
    }

    /// <summary>_tocEntryIsACL: ACL entries, and the DEFAULT ACL and ACL LANGUAGE kinds.</summary>
    public static bool IsAcl(TocEntry te) => te.Desc is "ACL" or "DEFAULT ACL" or "ACL LANGUAGE";
}

/// <summary>The kinds of names -n, -t, -I, -P and -T select by.</summary>
public enum NameKind
{
    Schema,
    Table,
    Index,
    Function,
    Trigger,
}
