using RestoreCluster.Archive;

namespace RestoreCluster.Cli;

/// <summary>Opens the archive a command names: a path, or standard input when absent or "-".</summary>
internal static class ArchiveOpener
{
    /// <summary>Whether the archive path names standard input (absent, or "-"), as pg_restore reads it.</summary>
    public static bool IsStandardInput(string? path) => path is null or "-";

    public static PgArchive Open(string? path, CliOutput io)
    {
        PgArchive archive;
        if (IsStandardInput(path))
        {
            archive = PgArchive.Open(io.OpenStdin(), "standard input");
        }
        else if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new CliError($"could not open input file \"{path}\": No such file or directory");
        }
        else
        {
            archive = PgArchive.Open(path);
        }

        // ReadHead: mktime() failing on the stored fields is only worth a warning.
        if (ArchiveTimestamp.IsInvalid(archive.Header.Created))
        {
            io.Warn("invalid creation date in header");
        }

        return archive;
    }
}
