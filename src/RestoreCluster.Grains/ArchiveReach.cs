using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Grains;

/// <summary>
/// Which silos cannot read a job's archive (a missing mount, a folder they may not enter), and what follows: such a
/// silo takes none of the job's units and looks again after <see cref="Recheck"/>, so a mount that comes back is
/// used; the job goes on while some live silo can read it, and fails with one line naming the archive and the silos
/// when none can (docs/cluster.md, "An archive a silo cannot read"). The coordinator holds one per job.
/// </summary>
public sealed class ArchiveReach
{
    /// <summary>How long a silo that could not read a job's archive waits before it tries again.</summary>
    public static TimeSpan Recheck { get; } = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, UnreadableArchive> _silos = new(StringComparer.Ordinal);

    /// <summary>Whether every silo that reported can read the archive (nothing to look at).</summary>
    public bool AllRead => _silos.Count == 0;

    /// <summary>
    /// What <paramref name="silo"/> found: <paramref name="reason"/> null when it reads the archive (again). The first
    /// report of a reason keeps its time; true when what is known changed.
    /// </summary>
    public bool Report(string silo, string? reason, DateTimeOffset now)
    {
        if (reason is null)
        {
            return _silos.Remove(silo);
        }

        if (_silos.TryGetValue(silo, out var known) && known.Reason == reason)
        {
            return false;
        }

        _silos[silo] = new UnreadableArchive(silo, reason, now);
        return true;
    }

    /// <summary>The silos among <paramref name="live"/> that cannot read the archive, by name.</summary>
    public IReadOnlyList<UnreadableArchive> Unreadable(IReadOnlyCollection<string> live) =>
        _silos.Values.Where(u => live.Contains(u.Silo)).OrderBy(u => u.Silo, StringComparer.Ordinal).ToList();

    /// <summary>
    /// The job's failure when no silo of <paramref name="live"/> (the cluster's active silos) can read the archive:
    /// every one of them said it cannot. Null while one of them can, or has not said (it may be starting).
    /// </summary>
    public string? NoneCanRead(string archivePath, IReadOnlyCollection<string> live)
    {
        if (live.Count == 0 || !live.All(_silos.ContainsKey))
        {
            return null;
        }

        var why = Unreadable(live).Select(u => $"{u.Silo}: {u.Reason}");
        return $"no live silo can read the archive \"{archivePath}\" ({string.Join("; ", why)})";
    }

    /// <summary>Why the archive at <paramref name="path"/> cannot be read here (one line), or null when it opens and its TOC reads.</summary>
    public static string? Check(string path)
    {
        try
        {
            using var archive = PgArchive.Open(path);
            return null;
        }
        catch (Exception e) when (IsUnreadable(e))
        {
            return Reason(e);
        }
    }

    /// <summary>An archive that cannot be opened or read here: missing, not allowed, or not an archive (a wrong mount).</summary>
    public static bool IsUnreadable(Exception e) => e is ArchiveException or IOException or UnauthorizedAccessException;

    /// <summary>The first line of the exception's message.</summary>
    public static string Reason(Exception e) => e.Message.Split('\n')[0].Trim();
}
