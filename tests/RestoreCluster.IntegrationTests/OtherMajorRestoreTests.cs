using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The PostgreSQL 15 fixture archives (1.14, made by the real pg_dump 15) restored by restorecluster into a server of
/// another major (16, 17, 18) give the database pg_restore 15 gives in the same server: equal catalog fingerprints
/// (pg_dump 15 cannot dump a newer server), serially (from standard input) and through the grains with -j 2.
/// One server per major, shared by its class; the three classes run side by side.
/// </summary>
public abstract class OtherMajorRestoreTests(OtherMajorTarget target)
{
    public static TheoryData<string, string> Cases() => new()
    {
        // archive, how: "stdin" is the serial restore, "-j N" the grains
        { "rich.custom", "stdin" },
        { "rich.custom", "-j 2" },
        { "nasty.custom", "stdin" },
        { "nasty.directory", "-j 2" },
        { "latin1.tar", "-j 2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task FixtureArchiveRestoresAsPgRestore15sDoesIntoThisMajor(string name, string how)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = target.Server;
        string archive = fixtures[name].Path;
        var (reference, expected) = await target.ReferenceAsync(archive);
        string db = await server.CreateDatabaseAsync($"rc_into_{target.Major}");
        try
        {
            var ours = how == "stdin"
                ? await CliRunner.RunAsync(server, ["restore", "-d", db], stdin: await File.ReadAllBytesAsync(archive), timeout: TimeSpan.FromMinutes(3))
                : await CliRunner.RunAsync(server, ["restore", .. how.Split(' '), "--progress", "none", "-d", db, archive], timeout: TimeSpan.FromMinutes(3));

            Assert.Equal($"PostgreSQL {target.Major}", await ServerMajorAsync(server));
            Assert.True(ours.ExitCode == reference.ExitCode, $"pg_restore 15 exited {reference.ExitCode}, restorecluster {ours.ExitCode}\n{ours.Stderr}\n--- pg_restore:\n{reference.Stderr}");
            Assert.DoesNotContain("   at ", ours.Stderr, StringComparison.Ordinal);
            // The reference restored the fixture (not an empty database, which would compare equal to another).
            Assert.Contains("\nrows ", expected, StringComparison.Ordinal);
            string actual = await CatalogFingerprint.TakeAsync(server, db);
            Assert.True(expected == actual, $"fingerprints differ from pg_restore 15's restore into PostgreSQL {target.Major}:\n" + CatalogFingerprint.Difference(expected, actual));
        }
        finally
        {
            await server.DropDatabaseAsync(db);
        }
    }

    internal static async Task<string> ServerMajorAsync(PostgresServer server)
    {
        int number = int.Parse(await server.ScalarAsync<string>("postgres", "SHOW server_version_num") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        return $"PostgreSQL {number / 10000}";
    }
}

public sealed class Postgres16RestoreTests(Postgres16Target target) : OtherMajorRestoreTests(target), IClassFixture<Postgres16Target>;

public sealed class Postgres17RestoreTests(Postgres17Target target) : OtherMajorRestoreTests(target), IClassFixture<Postgres17Target>;

