namespace RestoreCluster.Restore;

/// <summary>
/// Where the emitted restore goes: an SQL script (every piece is text, pg_restore -f) or a live session
/// (each piece is one query, COPY data is streamed, large objects are written through functions).
/// </summary>
internal interface ISqlSink
{
    /// <summary>True for a live session: TOC comments are not sent (pg_restore's noTocComments).</summary>
    bool IsDatabase { get; }

    /// <summary>One pg_restore ahprintf of SQL: script text, or one query in a session.</summary>
    void Sql(byte[] text);

    /// <summary>Starts a COPY with its statement (script: the statement text, then the data as is).</summary>
    void BeginCopy(byte[] copyStatement);

    void CopyData(ReadOnlySpan<byte> data);

    void EndCopy(string table);

    /// <summary>Text written only into scripts: TOC comments, psql meta-commands.</summary>
    void ScriptOnly(byte[] text);
}
