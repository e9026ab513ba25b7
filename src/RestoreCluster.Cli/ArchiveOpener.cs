using RestoreCluster.Archive;

namespace RestoreCluster.Cli;

/// <summary>Opens the archive a command names: a path, or standard input when absent or "-".</summary>
internal static class ArchiveOpener
{
    public static PgArchive Open(string? path, CliOutput io)
    {
        if (path is null or "-")
        {
            return PgArchive.Open(io.OpenStdin(), "standard input");
        }

        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new CliError($"could not open input file \"{path}\": No such file or directory");
        }

        return PgArchive.Open(path);
    }
}
