using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Cli;

/// <summary><c>restorecluster list</c> and <c>restore -l</c>: the TOC as pg_restore -l prints it, or as JSON.</summary>
internal static class ListCommand
{
    public static int Run(PgArchive archive, IReadOnlyList<TocEntry> order, SelectionOptions selection, bool json, bool verbose, Stream output)
    {
        var reqs = EntrySelector.Select(order, archive, selection);
        bool Listed(TocEntry e) => reqs[e.DumpId].IsRestored();
        string created = ArchiveTimestamp.Format(archive.Header.Created);
        if (json)
        {
            JsonTocWriter.Write(output, archive, order, Listed, created);
        }
        else
        {
            TocListWriter.Write(output, archive, order, Listed, created, verbose);
        }

        return ExitCodes.Success;
    }
}
