namespace RestoreCluster.Testing;

/// <summary>The fixture databases and the archives pg_dump made of them, for one test process.</summary>
public sealed class FixtureSet
{
    internal FixtureSet(PostgresServer server, string directory, string rolesSql, IReadOnlyList<FixtureDatabase> databases, IReadOnlyList<FixtureArchive> archives)
    {
        Server = server;
        Directory = directory;
        RolesSql = rolesSql;
        Databases = databases;
        Archives = archives;
    }

    /// <summary>The server holding the source databases (the shared one).</summary>
    public PostgresServer Server { get; }

    /// <summary>The temp directory holding the archives; removed when the process exits.</summary>
    public string Directory { get; }

    /// <summary>Idempotent SQL that creates every role the fixtures reference (run it on a restore target).</summary>
    public string RolesSql { get; }

    public IReadOnlyList<FixtureDatabase> Databases { get; }

    public IReadOnlyList<FixtureArchive> Archives { get; }

    /// <summary>The fixture names: rich, nasty, latin1.</summary>
    public IEnumerable<string> Fixtures => Databases.Select(d => d.Fixture);

    /// <summary>The archive called <paramref name="name"/>, e.g. <c>rich.custom</c>.</summary>
    public FixtureArchive this[string name] =>
        Archives.FirstOrDefault(a => a.Name == name)
        ?? throw new KeyNotFoundException($"no fixture archive '{name}'; known: {string.Join(", ", Archives.Select(a => a.Name))}");

    public FixtureArchive Get(string fixture, FixtureArchiveKind kind) => this[$"{fixture}.{FixtureArchive.VariantOf(kind)}"];

    public FixtureDatabase Database(string fixture) =>
        Databases.FirstOrDefault(d => d.Fixture == fixture) ?? throw new KeyNotFoundException($"no fixture database '{fixture}'");

    /// <summary>Creates the fixtures' roles on <paramref name="target"/> so OWNER TO / GRANT statements restore cleanly.</summary>
    public Task PrepareTargetRolesAsync(PostgresServer target, CancellationToken cancellationToken = default) =>
        target.ExecuteAsync("postgres", RolesSql, cancellationToken);
}
