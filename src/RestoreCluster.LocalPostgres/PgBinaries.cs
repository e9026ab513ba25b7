using System.Globalization;

namespace RestoreCluster.LocalPostgres;

/// <summary>Finds the PostgreSQL binaries: the highest /usr/lib/postgresql/N/bin (Debian's layout), else PATH.</summary>
public static class PgBinaries
{
    private const string DebianRoot = "/usr/lib/postgresql";
    private static readonly Lazy<string> Found = new(Find);

    /// <summary>The directory holding postgres, initdb, pg_dump (and usually pg_restore, psql).</summary>
    public static string BinDirectory => Found.Value;

    public static string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <summary>True when <paramref name="name"/> is installed beside the server (pg_restore is a separate package on some systems).</summary>
    public static bool Has(string name) => File.Exists(Tool(name));

    private static string Find()
    {
        if (Directory.Exists(DebianRoot))
        {
            var best = Directory.GetDirectories(DebianRoot)
                .Select(dir => (dir, version: double.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.version >= 0 && File.Exists(Path.Combine(x.dir, "bin", "postgres")))
                .OrderByDescending(x => x.version)
                .Select(x => Path.Combine(x.dir, "bin"))
                .FirstOrDefault();
            if (best is not null)
            {
                return best;
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "pg_dump")))
            {
                return dir;
            }
        }

        throw new LocalPostgresException("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin nor on PATH; install postgresql");
    }
}
