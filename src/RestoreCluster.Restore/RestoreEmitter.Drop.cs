using System.Text;
using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

internal sealed partial class RestoreEmitter
{
    /// <summary>
    /// The -c phase of RestoreArchive: every selected entry with a DROP statement, in reverse TOC order
    /// (with -C only the database itself), rewritten with IF EXISTS when --if-exists is given.
    /// </summary>
    private void DropPhase()
    {
        foreach (var te in DropOrder())
        {
            // pg_restore 17 --transaction-size: a database cannot be dropped inside a transaction block.
            bool database = TransactionBlocks && te.Desc is "DATABASE" or "DATABASE PROPERTIES";
            if (database)
            {
                _sink.Sql(Ascii("COMMIT;\n"));
            }

            DropEntry(te);
            if (database)
            {
                _sink.Sql(Ascii("BEGIN;\n"));
                _txnCount = 0;
            }
            else
            {
                CountTransactionAction("COMMIT;\nBEGIN;\n");
            }
        }

        ForgetSchema();
    }

    /// <summary>The entries the -c phase drops, in the order it drops them (reverse TOC order).</summary>
    public IEnumerable<TocEntry> DropOrder()
    {
        for (int i = _order.Count - 1; i >= 0; i--)
        {
            var te = _order[i];
            if (_options.Selection.CreateDatabase && te.Desc is not ("DATABASE" or "DATABASE PROPERTIES"))
            {
                continue;
            }

            // pg_restore 18 drops what has a schema or data part: statistics have no DROP.
            if ((_reqs[te.DumpId] & (RestoreParts.Schema | RestoreParts.Data)) == 0 || te.DropStmt is null)
            {
                continue;
            }

            yield return te;
        }
    }

    /// <summary>The search_path chosen for a dropped schema no longer holds (pg_restore forgets it).</summary>
    public void ForgetSchema() => _currSchema = null;

    /// <summary>The DROP of one entry, rewritten with IF EXISTS when --if-exists is given.</summary>
    public void DropEntry(TocEntry te)
    {
        {
            Verbose(VerboseMessages.Dropping(te));
            _sink.CurrentEntry = te;
            BecomeOwner(te);
            SelectOutputSchema(te.GetRaw(TocField.Namespace));
            if (_pg18 && te.Desc == "BLOB METADATA")
            {
                // PostgreSQL 17: large objects of a group are dropped one by one.
                IssueCommandPerBlob(te,
                    Encoding.ASCII.GetBytes(_options.IfExists
                        ? "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '"
                        : "SELECT pg_catalog.lo_unlink('"),
                    Encoding.ASCII.GetBytes(_options.IfExists ? "'" : "')"));
                return;
            }

            if (te.DropStmt!.Length == 0)
            {
                return;
            }

            var b = new SqlBuffer();
            if (!_options.IfExists || te.DropStmt.StartsWith("--", StringComparison.Ordinal))
            {
                Emit(b.Add(te.GetRaw(TocField.DropStmt)!));
            }
            else if (te.Desc is "BLOB" || (!_pg18 && te.Desc.StartsWith("BLOB", StringComparison.Ordinal)))
            {
                Emit(b.Add($"SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '{te.OidValue}';\n"));
            }
            else
            {
                Emit(b.Add(Bytes(WithIfExists(te))));
            }
        }
    }

    private string WithIfExists(TocEntry te)
    {
        string drop = te.DropStmt!;
        var result = new StringBuilder();
        if (drop.StartsWith("ALTER TABLE", StringComparison.Ordinal))
        {
            result.Append("ALTER TABLE IF EXISTS");
            drop = drop[11..];
        }

        // ALTER TABLE .. ALTER COLUMN .. DROP DEFAULT has no IF EXISTS; DATABASE PROPERTIES and views
        // recreated to drop an ON SELECT rule stay as they are.
        if (te.Desc is "DEFAULT" or "DATABASE PROPERTIES" || drop.StartsWith("CREATE OR REPLACE VIEW", StringComparison.Ordinal))
        {
            return result.Append(drop).ToString();
        }

        string keyword = te.Desc is "CONSTRAINT" or "CHECK CONSTRAINT" or "FK CONSTRAINT" ? "DROP CONSTRAINT" : "DROP " + te.Desc;
        int mark = drop.IndexOf(keyword, StringComparison.Ordinal);
        if (mark < 0)
        {
            Warnings.Add($"could not find where to insert IF EXISTS in statement \"{te.DropStmt}\"");
            return result.Append(drop).ToString();
        }

        return result.Append(drop, 0, mark).Append(keyword).Append(" IF EXISTS").Append(drop, mark + keyword.Length, drop.Length - mark - keyword.Length).ToString();
    }
}
