using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>pg_restore -f: the restore written as an SQL script.</summary>
public static class ScriptRestore
{
    /// <summary>
    /// Writes the script; returns the warnings pg_restore would print on the way. With -v,
    /// <paramref name="reportInfo"/> gets pg_restore's messages as they come (<see cref="VerboseMessages"/>).
    /// </summary>
    public static IReadOnlyList<string> Write(PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, Stream output, Action<string>? reportInfo = null)
    {
        var emitter = new RestoreEmitter(archive, order, options, new ScriptSink(output, options.RestrictKey)) { Info = reportInfo };
        emitter.Run();
        output.Flush();
        return emitter.Warnings;
    }
}
