using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// Where the emitted restore goes: an SQL script (every piece is text, pg_restore -f) or a live session
/// (each piece is one query, COPY data is streamed, large objects are written through functions).
/// </summary>
internal interface ISqlSink
{
    /// <summary>True for a live session: TOC comments are not sent (pg_restore's noTocComments).</summary>
    bool IsDatabase { get; }

    /// <summary>The entry being restored, named in error messages.</summary>
    TocEntry? CurrentEntry { get; set; }

    /// <summary>Errors counted so far (pg_restore's n_errors; a script counts none).</summary>
    int ErrorCount { get; }

    /// <summary>The entry of the last failed statement (pg_restore's lastErrorTE).</summary>
    TocEntry? LastErrorEntry { get; }

    /// <summary>One pg_restore ahprintf of SQL: script text, or one query in a session.</summary>
    /// <param name="text">The SQL as pg_restore sends it (and names it in an error's "command was").</param>
    /// <param name="instead">A session's statements in its place (a key built as an index first, <see cref="Planning.KeyConstraint"/>),
    /// sent as the one query; a script writes <paramref name="text"/>.</param>
    void Sql(byte[] text, SqlFailure onFailure = SqlFailure.Count, IReadOnlyList<string>? instead = null);

    /// <summary>
    /// The INSERT statements of a --inserts dump, read from the entry's data stream: script text, or each
    /// statement on its own in a session, streamed (a table's data is never held whole).
    /// </summary>
    void Statements(Stream data);

    /// <summary>Starts a COPY with its statement (script: the statement text, then the data as is).</summary>
    /// <param name="freeze">The table was truncated in this unit's transaction: a database sink may add FREEZE (DatabaseSink).</param>
    /// <param name="chunk">Only this chunk's rows of a split table are sent (units only: a script is never split).</param>
    void BeginCopy(byte[] copyStatement, bool freeze = false, CopyChunkFilter? chunk = null);

    void CopyData(ReadOnlySpan<byte> data);

    void EndCopy(string table);

    /// <summary>Text written only into scripts: TOC comments.</summary>
    void ScriptOnly(byte[] text);

    /// <summary>The large objects of one BLOBS entry, in their own transaction unless one is already open (-1).</summary>
    void LargeObjects(IEnumerable<LargeObjectData> objects, bool ownTransaction, bool standardConformingStrings);

    /// <summary>_reconnectToDB: a new session on another database (script: psql's \connect).</summary>
    void Reconnect(byte[] database);
}

/// <summary>What a failed statement means (warn_or_exit_horribly versus pg_fatal in pg_restore).</summary>
internal enum SqlFailure
{
    /// <summary>Counted (or the end of the restore with -e).</summary>
    Count,

    /// <summary>Always ends the restore (SET SESSION AUTHORIZATION).</summary>
    Fatal,
}
