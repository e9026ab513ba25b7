using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>pg_restore -f: the restore written as an SQL script.</summary>
public static class ScriptRestore
{
    /// <summary>Writes the script; returns the warnings pg_restore would print on the way.</summary>
    public static IReadOnlyList<string> Write(PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, Stream output)
    {
        var emitter = new RestoreEmitter(archive, order, options, new ScriptSink(output, options.RestrictKey));
        emitter.Run();
        output.Flush();
        return emitter.Warnings;
    }
}
