using System.Collections.Concurrent;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// One private server of another PostgreSQL major (OtherMajors: the pinned @embedded-postgres build) for a test class,
/// with the fixtures' roles, and pg_restore 15's restores into it (one per archive, made once and fingerprinted).
/// Autovacuum is off: nothing but the restore changes a table's statistics or pages.
/// </summary>
public abstract class OtherMajorTarget(int major) : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, Lazy<Task<(ProcessResult Run, string Fingerprint)>>> references = new(StringComparer.Ordinal);
    private PostgresServer? server;

    public int Major => major;

    public PostgresServer Server => server ?? throw new InvalidOperationException($"the PostgreSQL {major} server did not start");

    public async Task InitializeAsync()
    {
        // The fixture archives (made on the shared PostgreSQL 15 server) and this server start side by side.
        var fixtures = FixtureArchives.GetAsync();
        server = await OtherMajors.StartServerAsync(major, ["autovacuum=off"]);
        await (await fixtures).PrepareTargetRolesAsync(server);
    }

    /// <summary>pg_restore 15's restore of <paramref name="archive"/> into a fresh database of this server, and its fingerprint.</summary>
    public Task<(ProcessResult Run, string Fingerprint)> ReferenceAsync(string archive) =>
        references.GetOrAdd(archive, a => new Lazy<Task<(ProcessResult, string)>>(() => RestoreWithPgRestoreAsync(a))).Value;

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private async Task<(ProcessResult, string)> RestoreWithPgRestoreAsync(string archive)
    {
        string db = await Server.CreateDatabaseAsync("pg15_into_" + major);
        try
        {
            var run = await Server.RunToolAsync("pg_restore", ["-d", db, archive], timeout: TimeSpan.FromMinutes(3));
            return (run, await CatalogFingerprint.TakeAsync(Server, db));
        }
        finally
        {
            await Server.DropDatabaseAsync(db);
        }
    }
}

public sealed class Postgres16Target() : OtherMajorTarget(16);

public sealed class Postgres17Target() : OtherMajorTarget(17);

public sealed class Postgres18Target() : OtherMajorTarget(18);
