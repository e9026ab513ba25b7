namespace RestoreCluster.Testing;

/// <summary>
/// Builds, once per test process, the fixture databases on the shared server and their archives made by
/// the real pg_dump in every format we read. Fixtures: <c>rich</c> (Fixtures/rich-schema.sql),
/// <c>nasty</c> (Fixtures/nasty.sql, UTF8) and <c>latin1</c> (Fixtures/latin1.sql, a LATIN1 database).
/// </summary>
public static class FixtureArchives
{
    private static readonly Lazy<Task<FixtureSet>> Set = new(BuildAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly FixtureArchiveKind[] Kinds = Enum.GetValues<FixtureArchiveKind>();

    public static Task<FixtureSet> GetAsync() => Set.Value;

    /// <summary>The directory holding the fixture scripts (roles.sql, rich-schema.sql, nasty.sql, latin1.sql).</summary>
    public static string ScriptDirectory => RepoPaths.FixturesDirectory;

    private static async Task<FixtureSet> BuildAsync()
    {
        var server = await PostgresServer.GetSharedAsync().ConfigureAwait(false);
        var directory = System.IO.Directory.CreateTempSubdirectory("restorecluster-fixtures-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        };
        await TempDirectoryWatchdog.StartAsync(directory).ConfigureAwait(false);

        var rolesSql = await File.ReadAllTextAsync(Path.Combine(ScriptDirectory, "roles.sql")).ConfigureAwait(false);
        await server.ExecuteAsync("postgres", rolesSql).ConfigureAwait(false);

        var sources = new (string Fixture, string Script, string? Encoding)[]
        {
            ("rich", Path.Combine(ScriptDirectory, "rich-schema.sql"), null),
            ("nasty", Path.Combine(ScriptDirectory, "nasty.sql"), null),
            ("latin1", Path.Combine(ScriptDirectory, "latin1.sql"), "LATIN1"),
        };
        var databases = await Task.WhenAll(sources.Select(s => LoadAsync(server, s.Fixture, s.Script, s.Encoding))).ConfigureAwait(false);

        var archives = new List<FixtureArchive>();
        foreach (var database in databases)
        {
            archives.AddRange(await Task.WhenAll(Kinds.Select(kind => DumpAsync(server, database, kind, directory))).ConfigureAwait(false));
        }

        return new FixtureSet(server, directory, rolesSql, databases, archives);
    }

    private static async Task<FixtureDatabase> LoadAsync(PostgresServer server, string fixture, string script, string? encoding)
    {
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"fixture script for '{fixture}' not found", script);
        }

        var database = await server.CreateDatabaseAsync($"fx_{fixture}", encoding).ConfigureAwait(false);
        var result = await server.RunToolAsync(
            "psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.LibpqConnectionString(database), "-f", script],
            timeout: TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"loading fixture '{fixture}' from {script} failed: {result.Describe()}");
        }

        return new FixtureDatabase(fixture, database, encoding ?? "UTF8", script);
    }

    private static async Task<FixtureArchive> DumpAsync(PostgresServer server, FixtureDatabase database, FixtureArchiveKind kind, string directory)
    {
        var name = $"{database.Fixture}.{FixtureArchive.VariantOf(kind)}";
        var path = Path.Combine(directory, kind switch
        {
            FixtureArchiveKind.Directory or FixtureArchiveKind.DirectoryUncompressed => name,
            FixtureArchiveKind.Tar => name,
            _ => name + ".dump",
        });
        var args = new List<string> { "--no-sync", "-d", server.LibpqConnectionString(database.Database) };
        args.AddRange(kind switch
        {
            FixtureArchiveKind.Custom => ["-Fc", "-f", path],
            FixtureArchiveKind.CustomUncompressed => ["-Fc", "-Z0", "-f", path],
            FixtureArchiveKind.CustomPiped => ["-Fc"],
            FixtureArchiveKind.Directory => ["-Fd", "-f", path],
            FixtureArchiveKind.DirectoryUncompressed => ["-Fd", "-Z0", "-f", path],
            FixtureArchiveKind.Tar => ["-Ft", "-f", path],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        });

        var result = await server.RunToolAsync("pg_dump", args, timeout: TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_dump of fixture archive '{name}' failed: {result.Describe()}");
        }

        if (kind == FixtureArchiveKind.CustomPiped)
        {
            await File.WriteAllBytesAsync(path, result.Stdout).ConfigureAwait(false);
        }

        return new FixtureArchive(name, database.Fixture, kind, path, database.Database);
    }
}
