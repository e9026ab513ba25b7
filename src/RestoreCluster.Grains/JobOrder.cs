using RestoreCluster.Archive;

namespace RestoreCluster.Grains;

/// <summary>The entries of a job in restore order: the archive's, or the order a -L list gave.</summary>
public static class JobOrder
{
    public static IReadOnlyList<TocEntry> Resolve(PgArchive archive, IReadOnlyList<int>? order) =>
        order is null
            ? archive.Entries
            : order.Select(id => archive.GetEntry(id) ?? throw new ArchiveException($"dump ID {id} of the job's order is not in \"{archive.DisplayName}\"")).ToList();
}
