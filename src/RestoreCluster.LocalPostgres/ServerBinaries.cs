namespace RestoreCluster.LocalPostgres;

/// <summary>
/// Where a <see cref="ThrowawayServer"/>'s initdb, postgres and pg_ctl come from. The default is the installed
/// PostgreSQL (<see cref="PgBinaries"/>); another major's binaries (the tests' other-major servers) come from a folder
/// of their own, with the shared libraries they were built against in <see cref="LibraryDirectory"/>, which is
/// given to them (and to nothing else) as <c>LD_LIBRARY_PATH</c>.
/// </summary>
public sealed record ServerBinaries(string BinDirectory, string? LibraryDirectory = null)
{
    /// <summary>The installed PostgreSQL's binaries, found when first used.</summary>
    public static ServerBinaries Installed => new(PgBinaries.BinDirectory);

    public string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <summary>The variables the server's programs need beyond the current environment (none for the installed one).</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        LibraryDirectory is null
            ? new Dictionary<string, string>()
            : new Dictionary<string, string>(StringComparer.Ordinal) { ["LD_LIBRARY_PATH"] = LibraryDirectory };
}
