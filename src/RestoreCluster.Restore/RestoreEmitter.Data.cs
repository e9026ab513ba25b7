using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

internal sealed partial class RestoreEmitter
{
    /// <summary>The data part of a TABLE DATA-like entry: COPY (or INSERT statements), with triggers handled.</summary>
    private void RestoreTableData(TocEntry te, bool truncateFirst)
    {
        bool triggers = _noSchema && _options.DisableTriggers;
        var b = new SqlBuffer();
        if (triggers)
        {
            Verbose(VerboseMessages.DisablingTriggers(te));
            BecomeUser(_options.Superuser is null ? null : Bytes(_options.Superuser));
            Emit(b.Add("ALTER TABLE ").QualifiedId(te.GetRaw(TocField.Namespace), te.GetRaw(TocField.Tag) ?? []).Add(" DISABLE TRIGGER ALL;\n\n"));
        }

        BecomeOwner(te);
        SelectOutputSchema(te.GetRaw(TocField.Namespace));
        Verbose(VerboseMessages.ProcessingData(te));
        bool truncated = truncateFirst && _sink.IsDatabase && !IsLoadViaPartitionRoot(te);
        if (truncated)
        {
            // TRUNCATE TABLE ONLY: inheritance children keep their rows.
            Emit(b.Add("TRUNCATE TABLE ONLY ").QualifiedId(te.GetRaw(TocField.Namespace), te.GetRaw(TocField.Tag) ?? []).Add(";\n\n"));
        }

        using (var data = _archive.OpenData(te, DataRead))
        {
            if (te.CopyStmt is { Length: > 0 } && _options.SampleDataBytes > 0)
            {
                _sink.BeginCopy(te.GetRaw(TocField.CopyStmt)!);
                RowPrefix.Copy(data, _options.SampleDataBytes, _sink.CopyData);
                _sink.EndCopy(te.Tag);
            }
            else if (te.CopyStmt is { Length: > 0 })
            {
                _sink.BeginCopy(te.GetRaw(TocField.CopyStmt)!, freeze: truncated && !_options.NoCopyFreeze, Chunk);
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
                // A dump made with --inserts: the data is SQL statements, each run on its own.
                _sink.Statements(data);
            }
        }

        if (triggers)
        {
            Verbose(VerboseMessages.EnablingTriggers(te));
            BecomeUser(_options.Superuser is null ? null : Bytes(_options.Superuser));
            Emit(b.Add("ALTER TABLE ").QualifiedId(te.GetRaw(TocField.Namespace), te.GetRaw(TocField.Tag) ?? []).Add(" ENABLE TRIGGER ALL;\n\n"));
        }
    }

    // Data loaded through the partition root can land in partitions other units load: never truncate it.
    private static bool IsLoadViaPartitionRoot(TocEntry te) =>
        te.Defn is { } d && d.StartsWith("-- load via partition root ", StringComparison.Ordinal);

    /// <summary>The large objects of a BLOBS entry, in their own transaction unless -1 opened one.</summary>
    private void RestoreLargeObjects(TocEntry te)
    {
        int count = 0;
        _sink.LargeObjects(Announced(_archive.ReadLargeObjects(te)), ownTransaction: !(_options.SingleTransaction || TransactionBlocks), _archive.StandardConformingStrings);
        // EndRestoreLOs: after the objects are written (and their transaction committed).
        Verbose(VerboseMessages.RestoredLargeObjects(count));

        // StartRestoreLO names each object as it starts; the tar format's _LoadLOs names it once more before.
        IEnumerable<LargeObjectData> Announced(IEnumerable<LargeObjectData> objects)
        {
            foreach (var lo in objects)
            {
                count++;
                if (_archive.Header.Format == ArchiveFormat.Tar)
                {
                    Verbose(VerboseMessages.RestoringLargeObject(lo.Oid));
                }

                Verbose(VerboseMessages.RestoringLargeObject(lo.Oid));
                yield return lo;
            }
        }
    }
}
