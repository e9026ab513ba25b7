namespace RestoreCluster.Restore;

/// <summary>Writes the restore as an SQL script, as pg_restore -f does.</summary>
internal sealed class ScriptSink(Stream output) : ISqlSink
{
    public bool IsDatabase => false;

    public void Sql(byte[] text) => output.Write(text);

    public void BeginCopy(byte[] copyStatement) => output.Write(copyStatement);

    public void CopyData(ReadOnlySpan<byte> data) => output.Write(data);

    public void EndCopy(string table)
    {
    }

    public void ScriptOnly(byte[] text) => output.Write(text);
}
