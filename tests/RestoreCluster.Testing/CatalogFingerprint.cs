using System.Text;
using Npgsql;

namespace RestoreCluster.Testing;

/// <summary>
/// A deterministic text of what a restore put in a database, for servers the installed pg_dump (15) cannot dump
/// (PostgreSQL 16+): which objects exist (by their catalog identity, never by OID), their definitions as the
/// server prints them (<c>pg_get_*def</c>, <c>pg_get_expr</c>, <c>format_type</c>), owners, ACLs, comments, and
/// every table's, materialized view's, sequence's and large object's contents. One line per fact,
/// <c>section identity: value</c>, sorted ordinally; two restores into the same server are compared with
/// <see cref="Difference"/>. CatalogFingerprintTests shows on PostgreSQL 15 that it is equal where pg_dump's
/// output is equal and differs for a changed row, comment, ACL, index, owner, default and sequence value.
/// </summary>
public static class CatalogFingerprint
{
    // Objects made by a restore have OIDs from FirstNormalObjectId (16384) on; the built-in ones are equal in
    // every database of a server. The public schema (2200) is built in but pg_dump dumps its owner, ACL and comment.
    private const string UserObject = "16384";

    // Every catalog whose rows are objects pg_dump can dump, with pg_identify_object's identity (schema-qualified
    // names and argument types, never an OID). TOAST tables and types are left out (their names hold OIDs), as
    // are internal triggers (named after OIDs; their constraint is listed).
    private const string ObjectsSql = $"""
        WITH o(classid, objid) AS (
                  SELECT 'pg_namespace'::regclass, oid FROM pg_namespace
        UNION ALL SELECT 'pg_class'::regclass, oid FROM pg_class WHERE relnamespace <> 'pg_toast'::regnamespace
        UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type WHERE typnamespace <> 'pg_toast'::regnamespace
        UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc
        UNION ALL SELECT 'pg_constraint'::regclass, oid FROM pg_constraint
        UNION ALL SELECT 'pg_trigger'::regclass, oid FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL SELECT 'pg_rewrite'::regclass, oid FROM pg_rewrite
        UNION ALL SELECT 'pg_attrdef'::regclass, oid FROM pg_attrdef
        UNION ALL SELECT 'pg_policy'::regclass, oid FROM pg_policy
        UNION ALL SELECT 'pg_collation'::regclass, oid FROM pg_collation
        UNION ALL SELECT 'pg_conversion'::regclass, oid FROM pg_conversion
        UNION ALL SELECT 'pg_operator'::regclass, oid FROM pg_operator
        UNION ALL SELECT 'pg_opclass'::regclass, oid FROM pg_opclass
        UNION ALL SELECT 'pg_opfamily'::regclass, oid FROM pg_opfamily
        UNION ALL SELECT 'pg_amop'::regclass, oid FROM pg_amop
        UNION ALL SELECT 'pg_amproc'::regclass, oid FROM pg_amproc
        UNION ALL SELECT 'pg_cast'::regclass, oid FROM pg_cast
        UNION ALL SELECT 'pg_language'::regclass, oid FROM pg_language
        UNION ALL SELECT 'pg_extension'::regclass, oid FROM pg_extension
        UNION ALL SELECT 'pg_ts_config'::regclass, oid FROM pg_ts_config
        UNION ALL SELECT 'pg_ts_dict'::regclass, oid FROM pg_ts_dict
        UNION ALL SELECT 'pg_ts_parser'::regclass, oid FROM pg_ts_parser
        UNION ALL SELECT 'pg_ts_template'::regclass, oid FROM pg_ts_template
        UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid FROM pg_foreign_data_wrapper
        UNION ALL SELECT 'pg_foreign_server'::regclass, oid FROM pg_foreign_server
        UNION ALL SELECT 'pg_user_mapping'::regclass, oid FROM pg_user_mapping
        UNION ALL SELECT 'pg_event_trigger'::regclass, oid FROM pg_event_trigger
        UNION ALL SELECT 'pg_publication'::regclass, oid FROM pg_publication
        UNION ALL SELECT 'pg_publication_rel'::regclass, oid FROM pg_publication_rel
        UNION ALL SELECT 'pg_publication_namespace'::regclass, oid FROM pg_publication_namespace
        UNION ALL SELECT 'pg_statistic_ext'::regclass, oid FROM pg_statistic_ext
        UNION ALL SELECT 'pg_default_acl'::regclass, oid FROM pg_default_acl
        UNION ALL SELECT 'pg_transform'::regclass, oid FROM pg_transform
        UNION ALL SELECT 'pg_largeobject'::regclass, oid FROM pg_largeobject_metadata
        UNION ALL SELECT 'pg_am'::regclass, oid FROM pg_am)
        SELECT 'object', i.type || ' ' || i.identity, '' FROM o, pg_identify_object(o.classid, o.objid, 0) i WHERE o.objid >= {UserObject}
        """;

    // The relations of the restore (user schemas), as a CTE the other queries share.
    private const string UserRelations = $"""
        WITH rel AS (
            SELECT c.*, format('%I.%I', n.nspname, c.relname) AS ident
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid >= {UserObject} AND n.nspname NOT IN ('pg_toast', 'pg_catalog', 'information_schema'))
        """;

    private static readonly string[] DefinitionQueries =
    [
        // Schemas (the public one too): owner, ACL (also below for every object), comment.
        """
        SELECT 'schema', format('%I', nspname), concat_ws(' ', 'owner', nspowner::regrole, 'acl', coalesce(nspacl::text, '-'))
        FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
        """,
        // Ownership of everything not owned by the bootstrap superuser (whose ownership is not recorded).
        """
        SELECT 'owner', i.type || ' ' || i.identity, d.refobjid::regrole::text
        FROM pg_shdepend d, pg_identify_object(d.classid, d.objid, d.objsubid) i
        WHERE d.deptype = 'o' AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        """,
        // Which objects depend on the ownership being the superuser's: the owner of every relation, function, type, schema, LO.
        UserRelations + "SELECT 'relation-owner', ident, relowner::regrole::text FROM rel",
        $"SELECT 'function-owner', p.oid::regprocedure::text, p.proowner::regrole::text FROM pg_proc p WHERE p.oid >= {UserObject}",
        $"SELECT 'type-owner', format_type(t.oid, NULL), t.typowner::regrole::text FROM pg_type t WHERE t.oid >= {UserObject} AND t.typnamespace <> 'pg_toast'::regnamespace",
        "SELECT 'largeobject', oid::text, concat_ws(' ', 'owner', lomowner::regrole, 'acl', coalesce(lomacl::text, '-'), 'md5', md5(lo_get(oid))) FROM pg_largeobject_metadata",
        // ACLs of relations, columns, functions, types, languages, foreign objects, default privileges.
        UserRelations + "SELECT 'acl', ident, relacl::text FROM rel WHERE relacl IS NOT NULL",
        UserRelations + """
        SELECT 'column-acl', rel.ident || '.' || quote_ident(a.attname), a.attacl::text
        FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid WHERE a.attacl IS NOT NULL
        """,
        "SELECT 'acl', p.oid::regprocedure::text, p.proacl::text FROM pg_proc p WHERE p.proacl IS NOT NULL",
        "SELECT 'acl', 'type ' || format_type(t.oid, NULL), t.typacl::text FROM pg_type t WHERE t.typacl IS NOT NULL",
        "SELECT 'acl', 'language ' || quote_ident(lanname), lanacl::text FROM pg_language WHERE lanacl IS NOT NULL",
        "SELECT 'acl', 'foreign data wrapper ' || quote_ident(fdwname), fdwacl::text FROM pg_foreign_data_wrapper WHERE fdwacl IS NOT NULL",
        "SELECT 'acl', 'server ' || quote_ident(srvname), srvacl::text FROM pg_foreign_server WHERE srvacl IS NOT NULL",
        """
        SELECT 'default-acl', concat_ws(' ', defaclrole::regrole, coalesce(defaclnamespace::regnamespace::text, '-'), defaclobjtype), defaclacl::text
        FROM pg_default_acl
        """,
        // Comments on the restore's objects (and on the public schema).
        $"""
        SELECT 'comment', i.type || ' ' || i.identity, d.description
        FROM pg_description d, pg_identify_object(d.classoid, d.objoid, d.objsubid) i
        WHERE d.objoid >= {UserObject} OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = 'public'::regnamespace)
        """,
        // Relations: kind, persistence, access method, options, row security, partitioning, inheritance, typed tables.
        UserRelations + """
        SELECT 'relation', ident, concat_ws(' | ', relkind, relpersistence, (SELECT amname FROM pg_am WHERE oid = relam),
            coalesce(reloptions::text, '-'), relrowsecurity, relforcerowsecurity, relreplident, relispartition,
            coalesce(pg_get_expr(relpartbound, oid), '-'), CASE WHEN relkind = 'p' THEN pg_get_partkeydef(oid) ELSE '-' END,
            (SELECT coalesce(string_agg(inhparent::regclass::text, ',' ORDER BY inhseqno), '-') FROM pg_inherits WHERE inhrelid = rel.oid),
            CASE WHEN reloftype <> 0 THEN format_type(reloftype, NULL) ELSE '-' END, relispopulated,
            CASE WHEN relkind IN ('v', 'm') THEN pg_get_viewdef(oid, true) ELSE '-' END)
        FROM rel
        """,
        // Columns: position, type, not-null, default, collation, identity, generated, storage, options.
        UserRelations + """
        SELECT 'column', rel.ident || '.' || quote_ident(a.attname), concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod),
            a.attnotnull, coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-'),
            CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text ELSE '-' END,
            a.attidentity, a.attgenerated, a.attstorage, a.attcompression, coalesce(a.attoptions::text, '-'),
            coalesce(a.attfdwoptions::text, '-'), a.attislocal, a.attinhcount, coalesce(a.attstattarget::text, '-'))
        FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped
        """,
        UserRelations + """
        SELECT 'index', ident, concat_ws(' | ', pg_get_indexdef(i.indexrelid), i.indisclustered, i.indisreplident, i.indisvalid)
        FROM rel JOIN pg_index i ON i.indexrelid = rel.oid
        """,
        $"""
        SELECT 'constraint', concat_ws(' ', quote_ident(c.conname), 'on', CASE WHEN c.conrelid <> 0 THEN c.conrelid::regclass::text ELSE format_type(c.contypid, NULL) END),
            concat_ws(' | ', pg_get_constraintdef(c.oid, true), c.conislocal, c.coninhcount, c.connoinherit)
        FROM pg_constraint c WHERE c.oid >= {UserObject}
        """,
        $"SELECT 'trigger', quote_ident(t.tgname) || ' on ' || t.tgrelid::regclass::text, concat_ws(' | ', pg_get_triggerdef(t.oid, true), t.tgenabled) FROM pg_trigger t WHERE NOT t.tgisinternal AND t.oid >= {UserObject}",
        $"SELECT 'rule', quote_ident(r.rulename) || ' on ' || r.ev_class::regclass::text, concat_ws(' | ', pg_get_ruledef(r.oid, true), r.ev_enabled) FROM pg_rewrite r WHERE r.rulename <> '_RETURN' AND r.oid >= {UserObject}",
        """
        SELECT 'policy', format('%I on %I.%I', policyname, schemaname, tablename),
            concat_ws(' | ', permissive, roles::text, cmd, coalesce(qual, '-'), coalesce(with_check, '-'))
        FROM pg_policies
        """,
        // Functions (their whole CREATE text), aggregates (their parts).
        $"""
        SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
        FROM pg_proc p WHERE p.oid >= {UserObject} AND p.prokind <> 'a'
        """,
        """
        SELECT 'aggregate', a.aggfnoid::regprocedure::text, concat_ws(' | ', a.aggkind, a.aggnumdirectargs, a.aggtransfn, a.aggfinalfn,
            a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn, a.aggfinalextra,
            a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify, a.aggsortop::regoperator, format_type(a.aggtranstype, NULL),
            a.aggtransspace, format_type(a.aggmtranstype, NULL), a.aggmtransspace, coalesce(a.agginitval, '-'), coalesce(a.aggminitval, '-'))
        FROM pg_aggregate a WHERE a.aggfnoid::oid >= 16384
        """,
        // Types: kind, base type, domain default and not-null, enum labels in order, range parts, collation.
        $"""
        SELECT 'type', format_type(t.oid, NULL), concat_ws(' | ', t.typtype, t.typcategory, t.typlen, t.typbyval, t.typalign, t.typstorage,
            t.typnotnull, coalesce(t.typdefault, '-'), CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) ELSE '-' END,
            CASE WHEN t.typcollation <> 0 THEN t.typcollation::regcollation::text ELSE '-' END, t.typinput, t.typoutput,
            (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
            (SELECT concat_ws(' ', format_type(r.rngsubtype, NULL), r.rngcollation::regcollation, (SELECT opcname FROM pg_opclass WHERE oid = r.rngsubopc), r.rngcanonical, r.rngsubdiff)
             FROM pg_range r WHERE r.rngtypid = t.oid))
        FROM pg_type t WHERE t.oid >= {UserObject} AND t.typnamespace <> 'pg_toast'::regnamespace
        """,
        // Sequences' parameters (their values are in the data queries).
        UserRelations + """
        SELECT 'sequence', ident, concat_ws(' | ', format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle,
            (SELECT string_agg(d.refobjid::regclass::text || '.' || a.attname || ' ' || d.deptype::text, ',') FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_class'::regclass AND d.objid = rel.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
        FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid
        """,
        "SELECT 'extension', quote_ident(extname), concat_ws(' | ', extversion, extnamespace::regnamespace, extrelocatable, extconfig::regclass[]::text, extcondition::text) FROM pg_extension",
        $"SELECT 'statistics', quote_ident(s.stxnamespace::regnamespace::text) || '.' || quote_ident(s.stxname), concat_ws(' | ', pg_get_statisticsobjdef(s.oid), coalesce(s.stxstattarget::text, '-')) FROM pg_statistic_ext s WHERE s.oid >= {UserObject}",
        $"SELECT 'collation', c.oid::regcollation::text, (to_jsonb(c) - 'oid' - 'collnamespace' - 'collowner')::text FROM pg_collation c WHERE c.oid >= {UserObject}",
        $"SELECT 'publication', quote_ident(p.pubname), (to_jsonb(p) - 'oid' - 'pubowner')::text FROM pg_publication p WHERE p.oid >= {UserObject}",
        "SELECT 'publication-table', quote_ident(pubname) || ' ' || quote_ident(schemaname) || '.' || quote_ident(tablename), (to_jsonb(t) - 'pubname' - 'schemaname' - 'tablename')::text FROM pg_publication_tables t",
        $"SELECT 'cast', format('(%s AS %s)', format_type(c.castsource, NULL), format_type(c.casttarget, NULL)), concat_ws(' | ', c.castfunc::regprocedure, c.castcontext, c.castmethod) FROM pg_cast c WHERE c.oid >= {UserObject}",
        $"SELECT 'operator', o.oid::regoperator::text, concat_ws(' | ', o.oprcode, o.oprrest, o.oprjoin, o.oprcom::regoperator, o.oprnegate::regoperator, o.oprcanmerge, o.oprcanhash) FROM pg_operator o WHERE o.oid >= {UserObject}",
        $"SELECT 'text-search-config', c.oid::regconfig::text, (SELECT string_agg(m.maptokentype || ':' || m.mapseqno || ':' || m.mapdict::regdictionary, ',' ORDER BY m.maptokentype, m.mapseqno) FROM pg_ts_config_map m WHERE m.mapcfg = c.oid) FROM pg_ts_config c WHERE c.oid >= {UserObject}",
        $"SELECT 'foreign-server', quote_ident(s.srvname), concat_ws(' | ', s.srvtype, s.srvversion, s.srvoptions::text) FROM pg_foreign_server s WHERE s.oid >= {UserObject}",
        $"SELECT 'event-trigger', quote_ident(e.evtname), concat_ws(' | ', e.evtevent, e.evtfoid::regprocedure, e.evtenabled, e.evttags::text) FROM pg_event_trigger e WHERE e.oid >= {UserObject}",
    ];

    // The relations whose contents are compared: tables (not partitioned parents, which hold no rows), populated
    // materialized views, and sequences (last_value, is_called: what pg_dump's setval restores).
    private const string ContentsSql = UserRelations + """
        SELECT relkind::text, ident FROM rel WHERE relkind IN ('r', 'm', 'S') AND (relkind <> 'm' OR relispopulated)
        """;

    /// <summary>The fingerprint of <paramref name="database"/> on <paramref name="server"/>: one sorted line per fact.</summary>
    public static async Task<string> TakeAsync(PostgresServer server, string database, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        // The text forms of values depend on these settings: fix them, whatever the server's defaults.
        await ExecuteAsync(connection, "SET DateStyle = ISO, MDY; SET TimeZone = UTC; SET extra_float_digits = 1; SET bytea_output = hex; SET IntervalStyle = postgres; SET search_path = pg_catalog", cancellationToken).ConfigureAwait(false);

        var lines = new List<string>();
        foreach (string sql in (string[])[ObjectsSql, .. DefinitionQueries])
        {
            await ReadLinesAsync(connection, sql, lines, cancellationToken).ConfigureAwait(false);
        }

        var contents = new List<(string Kind, string Relation)>();
        await using (var command = new NpgsqlCommand(ContentsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                contents.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (kind, relation) in contents)
        {
            // A table's rows in their physical order (the order pg_dump's COPY writes them in), as their text forms. A
            // materialized view's rows are what its query gave at REFRESH, in no set order (a hash aggregate's):
            // sorted, since pg_dump only prints the REFRESH.
            string order = kind == "m" ? "ROW(t.*)::text COLLATE \"C\"" : "t.ctid";
            string sql = kind == "S"
                ? $"SELECT 'sequence-value', '{relation.Replace("'", "''")}', concat_ws(' ', last_value, is_called) FROM {relation}"
                : $"SELECT 'rows', '{relation.Replace("'", "''")}', count(*) || ' md5 ' || md5(coalesce(string_agg(ROW(t.*)::text, E'\\n' ORDER BY {order}), '')) FROM ONLY {relation} AS t";
            await ReadLinesAsync(connection, sql, lines, cancellationToken).ConfigureAwait(false);
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>The lines only one of two fingerprints has (at most <paramref name="limit"/> of each), for a failing test's message.</summary>
    public static string Difference(string expected, string actual, int limit = 20)
    {
        var a = expected.Split('\n').ToHashSet(StringComparer.Ordinal);
        var b = actual.Split('\n').ToHashSet(StringComparer.Ordinal);
        var text = new StringBuilder();
        foreach (string line in expected.Split('\n').Where(l => !b.Contains(l)).Take(limit))
        {
            text.Append("- ").AppendLine(line);
        }

        foreach (string line in actual.Split('\n').Where(l => !a.Contains(l)).Take(limit))
        {
            text.Append("+ ").AppendLine(line);
        }

        return text.Length == 0 ? "(the same lines)" : text.ToString();
    }

    private static async Task ReadLinesAsync(NpgsqlConnection connection, string sql, List<string> lines, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            string Field(int i) => reader.IsDBNull(i) ? "<null>" : reader.GetString(i);
            // One line per fact: a definition's own line breaks are escaped so that a diff shows the fact whole.
            lines.Add($"{Field(0)} {Field(1)}: {Field(2)}".Replace("\\", "\\\\").Replace("\n", "\\n"));
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
