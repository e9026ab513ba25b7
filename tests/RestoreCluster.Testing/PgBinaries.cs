namespace RestoreCluster.Testing;

/// <summary>Finds the PostgreSQL binaries: the highest /usr/lib/postgresql/N/bin, else PATH.</summary>
internal static class PgBinaries
{
    private static readonly Lazy<string> Directory = new(Find);

    public static string BinDirectory => Directory.Value;

    public static string Tool(string name) => Path.Combine(BinDirectory, name);

    private static string Find()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (System.IO.Directory.Exists(debianRoot))
        {
            var best = System.IO.Directory.GetDirectories(debianRoot)
                .Select(dir => (dir, version: double.TryParse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
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

        throw new InvalidOperationException("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin nor on PATH; install postgresql (see .ci/run)");
    }
}
