using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

internal sealed partial class RestoreEmitter
{
    // LOBBUFSIZE: pg_restore hands large objects to lo_write (or lowrite in scripts) 16 kB at a time.
    private const int LargeObjectBufferSize = 16384;

    /// <summary>The data part of a TABLE DATA-like entry: COPY (or INSERT statements), with triggers handled.</summary>
    private void RestoreTableData(TocEntry te)
    {
        bool triggers = _dataOnly && _options.DisableTriggers;
        var b = new SqlBuffer();
        if (triggers)
        {
            BecomeUser(_options.Superuser is null ? null : Bytes(_options.Superuser));
            Emit(b.Add("ALTER TABLE ").QualifiedId(te.GetRaw(TocField.Namespace), te.GetRaw(TocField.Tag) ?? []).Add(" DISABLE TRIGGER ALL;\n\n"));
        }

        BecomeOwner(te);
        SelectOutputSchema(te.GetRaw(TocField.Namespace));
        using (var data = _archive.OpenData(te))
        {
            if (te.CopyStmt is { Length: > 0 })
            {
                _sink.BeginCopy(te.GetRaw(TocField.CopyStmt)!);
                var buffer = new byte[1 << 16];
                int n;
                while ((n = data.Read(buffer, 0, buffer.Length)) > 0)
                {
                    _sink.CopyData(buffer.AsSpan(0, n));
                }

                _sink.EndCopy(te.Tag);
            }
            else
            {
                // A dump made with --inserts: the data is SQL text.
                var ms = new MemoryStream();
                data.CopyTo(ms);
                _sink.Sql(ms.ToArray());
            }
        }

        if (triggers)
        {
            BecomeUser(_options.Superuser is null ? null : Bytes(_options.Superuser));
            Emit(b.Add("ALTER TABLE ").QualifiedId(te.GetRaw(TocField.Namespace), te.GetRaw(TocField.Tag) ?? []).Add(" ENABLE TRIGGER ALL;\n\n"));
        }
    }

    /// <summary>StartRestoreLOs/StartRestoreLO/lowrite/EndRestoreLO/EndRestoreLOs of a BLOBS entry.</summary>
    private void RestoreLargeObjects(TocEntry te)
    {
        var b = new SqlBuffer();
        if (!_options.SingleTransaction)
        {
            Emit(b.Add("BEGIN;\n\n"));
        }

        var chunk = new byte[LargeObjectBufferSize];
        foreach (var lo in _archive.ReadLargeObjects(te))
        {
            Emit(b.Add($"SELECT pg_catalog.lo_open('{lo.Oid}', 131072);\n"));
            int used;
            while ((used = Fill(lo.Data, chunk)) > 0)
            {
                Emit(b.Add("SELECT pg_catalog.lowrite(0, ").ByteaLiteral(chunk.AsSpan(0, used), _archive.StandardConformingStrings).Add(");\n"));
            }

            Emit(b.Add("SELECT pg_catalog.lo_close(0);\n\n"));
        }

        if (!_options.SingleTransaction)
        {
            Emit(b.Add("COMMIT;\n\n"));
        }
    }

    private static int Fill(Stream s, byte[] buffer)
    {
        int done = 0;
        int n;
        while (done < buffer.Length && (n = s.Read(buffer, done, buffer.Length - done)) > 0)
        {
            done += n;
        }

        return done;
    }
}
