using System.Globalization;
using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

internal sealed partial class RestoreEmitter
{
    // Object kinds whose ownership is restored with ALTER ... OWNER TO (_printTocEntry).
    private static readonly HashSet<string> OwnedKinds =
    [
        "AGGREGATE", "BLOB", "COLLATION", "CONVERSION", "DATABASE", "DOMAIN", "FUNCTION", "OPERATOR",
        "OPERATOR CLASS", "OPERATOR FAMILY", "PROCEDURE", "PROCEDURAL LANGUAGE", "SCHEMA", "EVENT TRIGGER",
        "TABLE", "TYPE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FOREIGN TABLE", "TEXT SEARCH DICTIONARY",
        "TEXT SEARCH CONFIGURATION", "FOREIGN DATA WRAPPER", "SERVER", "STATISTICS", "PUBLICATION", "SUBSCRIPTION",
    ];

    // Kinds with a DROP statement but no owner of their own.
    private static readonly HashSet<string> UnownedKinds =
    [
        "CAST", "CHECK CONSTRAINT", "CONSTRAINT", "DATABASE PROPERTIES", "DEFAULT", "FK CONSTRAINT", "INDEX",
        "RULE", "TRIGGER", "ROW SECURITY", "POLICY", "USER MAPPING",
    ];

    private static readonly HashSet<string> PlainDescribed =
    [
        "COLLATION", "CONVERSION", "DOMAIN", "TABLE", "TYPE", "FOREIGN TABLE", "TEXT SEARCH DICTIONARY",
        "TEXT SEARCH CONFIGURATION", "STATISTICS", "DATABASE", "PROCEDURAL LANGUAGE", "SCHEMA", "EVENT TRIGGER",
        "FOREIGN DATA WRAPPER", "SERVER", "PUBLICATION", "SUBSCRIPTION", "USER MAPPING", "MATERIALIZED VIEW",
        "SEQUENCE", "VIEW",
    ];

    private static readonly HashSet<string> DescribedByDrop =
        ["AGGREGATE", "FUNCTION", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "PROCEDURE"];

    /// <summary>Warnings pg_restore prints to stderr while emitting ("don't know how to set owner ...").</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>
    /// restore_toc_entry: the schema part, then the data part, of one selected entry. In a parallel
    /// restore (<paramref name="truncateFirst"/>) the data of a table this run created goes after a
    /// TRUNCATE in the same transaction, so the COPY can skip WAL.
    /// </summary>
    public void RestoreEntry(TocEntry te, bool truncateFirst = false)
    {
        _sink.CurrentEntry = te;
        var reqs = _reqs[te.DumpId];
        bool defnDumped = false;
        if ((reqs & RestoreParts.Schema) != 0)
        {
            // pg_restore 17 --transaction-size: a database is created (or altered) outside the transaction block;
            // connecting to it begins the next block.
            if (TransactionBlocks && te.Desc is "DATABASE" or "DATABASE PROPERTIES")
            {
                _sink.Sql(Ascii("COMMIT;\n\n"));
            }

            Verbose(VerboseMessages.Creating(te));
            PrintTocEntry(te, NamePrefix.None);
            defnDumped = true;
            if (te.Desc == "TABLE" && _sink.LastErrorEntry == te)
            {
                // The table could not be created (or its ALTER OWNER failed): skip its data if asked.
                if (_options.NoDataForFailedTables)
                {
                    InhibitDataFor(te);
                }
            }
            else if (te.Desc == "TABLE")
            {
                CreatedTables.Add(te.DumpId);
            }

            if (te.Desc is "DATABASE" or "DATABASE PROPERTIES")
            {
                Verbose(VerboseMessages.ConnectingToNewDatabase(te));
                ReconnectToDatabase(te.GetRaw(TocField.Tag) ?? []);
            }
        }

        if ((reqs & RestoreParts.Data) != 0)
        {
            RestoreDataPart(te, defnDumped, truncateFirst);
        }

        // pg_restore 18: the statistics of a STATISTICS DATA entry, under "Statistics for Name:".
        if ((reqs & RestoreParts.Stats) != 0)
        {
            PrintTocEntry(te, NamePrefix.Statistics);
        }

        // Whatever was emitted for the entry counts as one action against --transaction-size.
        if (reqs.IsRestored())
        {
            CountTransactionAction("COMMIT;\nBEGIN;\n\n");
        }
    }

    /// <summary>
    /// The second step of a foreign key added NOT VALID (<see cref="KeyPlan.ForeignKeyOf"/>): its validation, in
    /// a transaction of its own. A failure is the entry's error as pg_restore reports its ADD CONSTRAINT (the
    /// server's message is the same, and the command named is the entry's definition), and the constraint is
    /// dropped, as pg_restore's failed ADD CONSTRAINT leaves none. With -e the sink's unfinished-unit statements
    /// drop it (UnitSession).
    /// </summary>
    public void ValidateForeignKey(TocEntry te)
    {
        // An entry of a serial batch (missed items) may be there with nothing selected: then nothing was added.
        if (Keys.ForeignKeyOf(te.DumpId) is not { } foreignKey || (_reqs[te.DumpId] & RestoreParts.Schema) == 0)
        {
            return;
        }

        _sink.CurrentEntry = te;
        BecomeOwner(te);
        SelectOutputSchema(te.GetRaw(TocField.Namespace));
        int errors = _sink.ErrorCount;
        _sink.Sql(new SqlBuffer().Add(te.GetRaw(TocField.Defn)!).Add("\n\n").ToArray(), instead: [foreignKey.Validate]);
        if (_sink.ErrorCount > errors)
        {
            _sink.Sql(new SqlBuffer().Add(foreignKey.Drop + ";\n").ToArray(), instead: [foreignKey.Drop]);
        }
    }

    private void RestoreDataPart(TocEntry te, bool defnDumped, bool truncateFirst)
    {
        if (te.HadDumper)
        {
            PrintTocEntry(te, NamePrefix.Data);
            if (te.Desc is "BLOBS" or "BLOB COMMENTS")
            {
                Verbose(VerboseMessages.Processing(te));
                SelectOutputSchema("pg_catalog"u8.ToArray());
                RestoreLargeObjects(te);
            }
            else
            {
                RestoreTableData(te, truncateFirst);
            }
        }
        else if (!defnDumped)
        {
            Verbose(VerboseMessages.Executing(te));
            PrintTocEntry(te, NamePrefix.None);
        }
    }

    // inhibit_data_for_failed_table: the TABLE DATA entry whose first dependency is this table.
    private void InhibitDataFor(TocEntry table)
    {
        Verbose(VerboseMessages.TableNotCreated(table));
        foreach (var e in _order)
        {
            if (e.Desc == "TABLE DATA" && e.Dependencies.Count > 0 && e.Dependencies[0] == table.DumpId)
            {
                _reqs[e.DumpId] = RestoreParts.None;
                InhibitedData.Add(e.DumpId);
            }
        }
    }

    /// <summary>_printTocEntry: session state, the comment header, the definition and ALTER OWNER.</summary>
    private void PrintTocEntry(TocEntry te, NamePrefix prefix)
    {
        BecomeOwner(te);
        SelectOutputSchema(te.GetRaw(TocField.Namespace));
        SelectTablespace(te.GetRaw(TocField.Tablespace));
        bool partitioned = te.RelKind == 'p';
        if (!_pg18 || !partitioned)
        {
            SelectTableAccessMethod(te.GetRaw(TocField.TableAm));
        }

        var b = new SqlBuffer();
        if (!_sink.IsDatabase)
        {
            b.Add("--\n");
            if (_options.Verbose)
            {
                b.Add($"-- TOC entry {te.DumpId} (class {te.TableOidValue} OID {te.OidValue})\n");
                if (te.Dependencies.Count > 0)
                {
                    b.Add("-- Dependencies:");
                    foreach (int d in te.Dependencies)
                    {
                        b.Add(" " + d.ToString(CultureInfo.InvariantCulture));
                    }

                    b.Add("\n");
                }
            }

            b.Add(prefix switch
                {
                    NamePrefix.Data => "-- Data for Name: ",
                    NamePrefix.Statistics => "-- Statistics for Name: ",
                    _ => "-- Name: ",
                }).Sanitized(te.GetRaw(TocField.Tag), hyphen: false)
                .Add("; Type: ").Add(te.GetRaw(TocField.Desc) ?? [])
                .Add("; Schema: ").Sanitized(te.GetRaw(TocField.Namespace), hyphen: true)
                .Add("; Owner: ").Sanitized(_options.NoOwner ? null : te.GetRaw(TocField.Owner), hyphen: true);
            if (te.Tablespace is { Length: > 0 } && !_options.NoTablespaces)
            {
                b.Add("; Tablespace: ").Sanitized(te.GetRaw(TocField.Tablespace), hyphen: false);
            }

            b.Add("\n");
            if (_options.Verbose)
            {
                PrintExtraToc(te, b);
            }

            b.Add("--\n\n");
            Text(b);
        }

        string defn = te.Defn ?? "";
        if (_options.NoOwner && te.Desc == "SCHEMA" && !defn.StartsWith("--", StringComparison.Ordinal))
        {
            // Drops the AUTHORIZATION clause old pg_dump versions put into CREATE SCHEMA.
            Emit(b.Add("CREATE SCHEMA ").Id(te.GetRaw(TocField.Tag) ?? []).Add(";\n\n\n"));
        }
        else if (_pg18 && te.Desc == "BLOB METADATA")
        {
            IssueCommandPerBlob(te, "SELECT pg_catalog.lo_create('"u8.ToArray(), "')"u8.ToArray());
        }
        else if (_pg18 && te.Desc == "ACL" && te.Tag.StartsWith("LARGE OBJECTS", StringComparison.Ordinal))
        {
            IssueAclPerBlob(te);
        }
        else if (defn.Length > 0 && _sink.IsDatabase && Keys.KeyOf(te.DumpId) is { } key)
        {
            _sink.Sql(b.Add(te.GetRaw(TocField.Defn)!).Add("\n\n").ToArray(), instead: [key.CreateIndex, key.Attach]);
            b.Clear();
        }
        else if (defn.Length > 0 && _sink.IsDatabase && Keys.ForeignKeyOf(te.DumpId) is { } foreignKey)
        {
            _sink.Sql(b.Add(te.GetRaw(TocField.Defn)!).Add("\n\n").ToArray(), instead: [foreignKey.AddNotValid]);
            b.Clear();
        }
        else if (defn.Length > 0)
        {
            Emit(b.Add(te.GetRaw(TocField.Defn)!).Add("\n\n"));

            // pg_restore 17: a definition of several commands counts as that many actions against
            // --transaction-size, by its semicolons (functions and procedures count as one).
            if (TransactionBlocks && te.Desc is not ("FUNCTION" or "PROCEDURE"))
            {
                int semicolons = defn.Count(c => c == ';');
                if (semicolons > 1)
                {
                    _txnCount += semicolons - 1;
                }
            }
        }

        bool ownerWanted = !_options.NoOwner
            && (!_options.UseSetSessionAuthorization || (te.Desc == "SCHEMA" && defn.StartsWith("--", StringComparison.Ordinal)))
            && te.Owner is { Length: > 0 }
            && te.DropStmt is { Length: > 0 };
        if (ownerWanted)
        {
            if (_pg18 && te.Desc == "BLOB METADATA")
            {
                var end = new SqlBuffer().Add(" OWNER TO ").Id(te.GetRaw(TocField.Owner)!).ToArray();
                IssueCommandPerBlob(te, "ALTER LARGE OBJECT "u8.ToArray(), end);
            }
            else if (OwnedKinds.Contains(te.Desc))
            {
                b.Add("ALTER ");
                DescribeObject(te, b);
                Emit(b.Add(" OWNER TO ").Id(te.GetRaw(TocField.Owner)!).Add(";\n\n"));
            }
            else if (!UnownedKinds.Contains(te.Desc))
            {
                Warnings.Add($"don't know how to set owner for object type \"{te.Desc}\"");
            }
        }

        // PostgreSQL 17: a partitioned table gets its access method after it exists.
        if (_pg18 && partitioned && te.TableAm is not null && !_options.NoTableAccessMethod)
        {
            Emit(b.Add("ALTER TABLE ").QualifiedId(te.GetRaw(TocField.Namespace), te.GetRaw(TocField.Tag) ?? [])
                .Add(" SET ACCESS METHOD ").Id(te.GetRaw(TocField.TableAm)!).Add(";\n\n"));
        }

        // An ACL may contain SET SESSION AUTHORIZATION for grants by other roles.
        if (EntrySelector.IsAcl(te))
        {
            _currUser = null;
        }
    }

    /// <summary>_getObjectDescription: the object as ALTER ... OWNER TO names it.</summary>
    private void DescribeObject(TocEntry te, SqlBuffer b)
    {
        string type = te.Desc;
        // PostgreSQL 16 and older say ALTER TABLE for views, sequences and materialized views.
        if (!_pg18 && type is "VIEW" or "SEQUENCE" or "MATERIALIZED VIEW")
        {
            type = "TABLE";
        }

        if (PlainDescribed.Contains(type))
        {
            b.Add(type).Add(" ");
            if (te.Namespace is { Length: > 0 })
            {
                b.Id(te.GetRaw(TocField.Namespace)!).Add(".");
            }

            b.Id(te.GetRaw(TocField.Tag) ?? []);
            return;
        }

        if (type == "BLOB")
        {
            b.Add("LARGE OBJECT ").Add(te.GetRaw(TocField.Tag) ?? []);
            return;
        }

        if (DescribedByDrop.Contains(type))
        {
            // The DROP statement already names the object with its argument types.
            byte[] drop = te.GetRaw(TocField.DropStmt)!;
            int start = Math.Min(5, drop.Length);
            int end = drop.Length;
            while (end > start && drop[end - 1] is (byte)'\n' or (byte)';')
            {
                end--;
            }

            b.Add(drop.AsSpan(start, end - start));
            return;
        }

        Warnings.Add($"don't know how to set owner for object type \"{type}\"");
    }

    private void PrintExtraToc(TocEntry te, SqlBuffer b)
    {
        switch (_archive.Header.Format)
        {
            case ArchiveFormat.Custom:
                b.Add($"-- Data Pos: {te.DataOffset.ToString(CultureInfo.InvariantCulture)}\n");
                break;
            default:
                if (te.FileName is not null)
                {
                    b.Add("-- File: ").Add(te.GetRaw(TocField.FileName)!).Add("\n");
                }

                break;
        }
    }

    /// <summary>IssueCommandPerBlob (PostgreSQL 17): one command per OID line of a BLOB METADATA definition.</summary>
    private void IssueCommandPerBlob(TocEntry te, byte[] begin, byte[] end)
    {
        byte[] defn = te.GetRaw(TocField.Defn) ?? [];
        var b = new SqlBuffer();
        int start = 0;
        while (true)
        {
            int nl = Array.IndexOf(defn, (byte)'\n', start);
            if (nl < 0)
            {
                break;
            }

            Emit(b.Add(begin).Add(defn.AsSpan(start, nl - start)).Add(end).Add(";\n"));
            start = nl + 1;
        }

        Emit(b.Add("\n"));
    }

    /// <summary>
    /// IssueACLPerBlob (PostgreSQL 17): an ACL tagged LARGE OBJECTS holds one copy of its GRANT/REVOKE
    /// commands; each command (split at semicolons outside quotes) is re-issued with "LARGE OBJECT n"
    /// replaced by every OID of the BLOB METADATA entry it depends on.
    /// </summary>
    private void IssueAclPerBlob(TocEntry te)
    {
        var metadata = te.Dependencies.Count > 0 ? _archive.GetEntry(te.Dependencies[0]) : null;
        if (metadata is null)
        {
            throw new ArchiveException($"could not find entry for ID {(te.Dependencies.Count > 0 ? te.Dependencies[0] : 0)} (the large objects of ACL dump ID {te.DumpId})");
        }

        string[] oids = (metadata.Defn ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string defn = te.Defn ?? "";
        var b = new SqlBuffer();
        bool inQuotes = false;
        int st = 0;
        for (int en = 0; en < defn.Length; en++)
        {
            if (defn[en] == '\'')
            {
                inQuotes = !inQuotes;
                continue;
            }

            if (defn[en] != ';' || inQuotes)
            {
                continue;
            }

            string command = defn[st..en].TrimStart();
            st = en + 1;
            int at = command.IndexOf("LARGE OBJECT ", StringComparison.Ordinal);
            if (at < 0)
            {
                Emit(b.Add(Bytes(command)).Add(";\n"));
                continue;
            }

            int rest = at + 13;
            while (rest < command.Length && char.IsAsciiDigit(command[rest]))
            {
                rest++;
            }

            foreach (string oid in oids)
            {
                Emit(b.Add(Bytes(command[..at])).Add("LARGE OBJECT " + oid).Add(Bytes(command[rest..])).Add(";\n"));
            }
        }

        Emit(b.Add("\n"));
    }
}

/// <summary>The heading prefix of _printTocEntry: TOC_PREFIX_NONE, TOC_PREFIX_DATA and (18) TOC_PREFIX_STATS.</summary>
internal enum NamePrefix
{
    None,
    Data,
    Statistics,
}
