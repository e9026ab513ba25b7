using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>Writes the restore as an SQL script, as pg_restore -f does.</summary>
internal sealed class ScriptSink(Stream output, string? restrictKey) : ISqlSink
{
    // LOBBUFSIZE: pg_restore hands large objects to lowrite 16 kB at a time.
    private const int LargeObjectBufferSize = 16384;

    public bool IsDatabase => false;

    public TocEntry? CurrentEntry { get; set; }

    public TocEntry? LastErrorEntry => null;

    public int ErrorCount => 0;

    public void Sql(byte[] text, SqlFailure onFailure = SqlFailure.Count, IReadOnlyList<string>? instead = null) => output.Write(text);

    public void Statements(Stream data) => data.CopyTo(output);

    public void BeginCopy(byte[] copyStatement, bool freeze = false, CopyChunkFilter? chunk = null) => output.Write(copyStatement);

    public void CopyData(ReadOnlySpan<byte> data) => output.Write(data);

    public void EndCopy(string table)
    {
    }

    public void ScriptOnly(byte[] text) => output.Write(text);

    // StartRestoreLOs / StartRestoreLO / dump_lo_buf / EndRestoreLO / EndRestoreLOs in script form.
    public void LargeObjects(IEnumerable<LargeObjectData> objects, bool ownTransaction, bool standardConformingStrings)
    {
        var b = new SqlBuffer();
        if (ownTransaction)
        {
            Write(b.Add("BEGIN;\n\n"));
        }

        var chunk = new byte[LargeObjectBufferSize];
        foreach (var lo in objects)
        {
            Write(b.Add($"SELECT pg_catalog.lo_open('{lo.Oid}', 131072);\n"));
            int used;
            while ((used = Fill(lo.Data, chunk)) > 0)
            {
                Write(b.Add("SELECT pg_catalog.lowrite(0, ").ByteaLiteral(chunk.AsSpan(0, used), standardConformingStrings).Add(");\n"));
            }

            Write(b.Add("SELECT pg_catalog.lo_close(0);\n\n"));
        }

        if (ownTransaction)
        {
            Write(b.Add("COMMIT;\n\n"));
        }
    }

    // _reconnectToDB in script mode: \connect, outside psql's restricted mode.
    public void Reconnect(byte[] database)
    {
        var b = new SqlBuffer();
        if (restrictKey is not null)
        {
            b.Add($"\\unrestrict {restrictKey}\n");
        }

        PsqlMeta.Connect(b, database);
        if (restrictKey is not null)
        {
            b.Add($"\\restrict {restrictKey}\n\n");
        }

        Write(b);
    }

    internal static int Fill(Stream s, byte[] buffer)
    {
        int done = 0;
        int n;
        while (done < buffer.Length && (n = s.Read(buffer, done, buffer.Length - done)) > 0)
        {
            done += n;
        }

        return done;
    }

    private void Write(SqlBuffer b)
    {
        output.Write(b.ToArray());
        b.Clear();
    }
}
