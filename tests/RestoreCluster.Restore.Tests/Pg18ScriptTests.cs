using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// Archives 1.16 written by pg_dump 18 (Fixtures/archives/pg18 in RestoreCluster.Testing): no pg_restore here reads them,
/// so the script is checked against the source database's facts and by loading it with psql.
/// </summary>
public sealed partial class Pg18ScriptTests
{
    private const string Key = "Pg18Key";
    private const string LargeObjectHex = "68656c6c6f206c61726765206f626a656374"; // "hello large object"

    private static readonly string[] Names = ["small18.gzip.dump", "small18.none.dump", "small18.gzip.dir", "small18.none.dir", "small18.tar"];

    public static TheoryData<string> Archives() => new(Names);

    [Theory]
    [MemberData(nameof(Archives))]
    public void ScriptHasEveryRowSequenceLargeObjectAndPg17Statement(string name)
    {
        string script = Script(name);

        var rows = CopyRowCounts(script);
        Assert.Equal(2000, rows["app.customers"]);
        Assert.Equal(5000, rows["app.orders"]);
        Assert.Equal(3000, rows["app.events_2024"] + rows["app.events_2025"]);
        Assert.Contains("SELECT pg_catalog.setval('app.customers_id_seq', 2000, true);\n", script, StringComparison.Ordinal);
        Assert.Contains("SELECT pg_catalog.setval('app.orders_id_seq', 5000, true);\n", script, StringComparison.Ordinal);

        // BLOB METADATA expands to one lo_create per OID, then the BLOBS entry writes the bytes.
        Assert.Contains("SELECT pg_catalog.lo_create('424242');\n", script, StringComparison.Ordinal);
        Assert.Contains("ALTER LARGE OBJECT 424242 OWNER TO postgres;\n", script, StringComparison.Ordinal);
        Assert.Contains($"SELECT pg_catalog.lo_open('424242', 131072);\nSELECT pg_catalog.lowrite(0, '\\x{LargeObjectHex}');\nSELECT pg_catalog.lo_close(0);\n", script, StringComparison.Ordinal);

        // PostgreSQL 17+ session setup and ALTER ... OWNER keywords.
        Assert.Contains("SET idle_in_transaction_session_timeout = 0;\nSET transaction_timeout = 0;\n", script, StringComparison.Ordinal);
        Assert.Contains("ALTER VIEW app.big_orders OWNER TO postgres;\n", script, StringComparison.Ordinal);
        Assert.Contains("ALTER SEQUENCE app.orders_id_seq OWNER TO postgres;\n", script, StringComparison.Ordinal);
        Assert.Contains("ALTER MATERIALIZED VIEW app.order_totals OWNER TO postgres;\n", script, StringComparison.Ordinal);
        Assert.Contains("ALTER TABLE app.customers OWNER TO postgres;\n", script, StringComparison.Ordinal);
        Assert.DoesNotMatch(AlterTableOwnerOfNonTable(), script);
        Assert.StartsWith("--\n-- PostgreSQL database dump\n--\n\n\\restrict " + Key + "\n", script, StringComparison.Ordinal);
        Assert.EndsWith("\\unrestrict " + Key + "\n\n", script, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFormatGivesTheSameScript()
    {
        // Each archive is its own pg_dump of a freshly loaded source, so only customers.created differs.
        string first = MaskCreated(Script("small18.gzip.dump"));
        foreach (string name in Names)
        {
            Assert.True(first == MaskCreated(Script(name)), $"{name} differs from small18.gzip.dump");
        }
    }

    [Theory]
    [InlineData("small18.gzip.dump")]
    [InlineData("small18.none.dir")]
    public async Task ScriptLoadsIntoAFreshDatabase(string name)
    {
        var server = await PostgresServer.GetSharedAsync();
        string database = await server.CreateDatabaseAsync("pg18_script");
        string file = Path.Combine(Path.GetTempPath(), $"restorecluster-pg18-{Guid.NewGuid():N}.sql");
        try
        {
            await File.WriteAllTextAsync(file, Script(name), new UTF8Encoding(false));
            var psql = await server.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", server.LibpqConnectionString(database), "-f", file]);

            // PostgreSQL 17+ sends SET transaction_timeout unconditionally; our PostgreSQL 15 rejects it, and nothing else.
            Assert.Equal(0, psql.ExitCode);
            var errors = psql.Stderr.Split('\n').Where(l => l.Contains("ERROR:", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 1 && errors[0].Contains("\"transaction_timeout\"", StringComparison.Ordinal), psql.Stderr);

            Assert.Equal(2000L, await server.ScalarAsync<long>(database, "SELECT count(*) FROM app.customers"));
            Assert.Equal(5000L, await server.ScalarAsync<long>(database, "SELECT count(*) FROM app.orders"));
            Assert.Equal(3000L, await server.ScalarAsync<long>(database, "SELECT count(*) FROM app.events"));
            Assert.Equal(2000L, await server.ScalarAsync<long>(database, "SELECT count(*) FROM app.order_totals"));
            Assert.Equal(5000L, await server.ScalarAsync<long>(database, "SELECT last_value FROM app.orders_id_seq"));
            Assert.Equal("hello large object", await server.ScalarAsync<string>(database, "SELECT convert_from(lo_get(424242), 'UTF8')"));
            Assert.Equal("customers — Kunden — 顧客", await server.ScalarAsync<string>(database, "SELECT obj_description('app.customers'::regclass, 'pg_class')"));
        }
        finally
        {
            File.Delete(file);
            await server.DropDatabaseAsync(database);
        }
    }

    private static string Script(string name)
    {
        string path = Path.Combine(RepoPaths.Pg18ArchivesDirectory, name);
        var run = InProcessCli.Run(["restore", "-f", "-", "--restrict-key=" + Key, path]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr);
        return Encoding.UTF8.GetString(run.Stdout);
    }

    // Rows of each COPY block: the lines between "COPY ns.t (...) FROM stdin;" and "\.".
    private static Dictionary<string, int> CopyRowCounts(string script)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        string? table = null;
        foreach (string line in script.Split('\n'))
        {
            if (table is null)
            {
                var m = CopyLine().Match(line);
                if (m.Success)
                {
                    table = m.Groups[1].Value;
                    counts[table] = 0;
                }
            }
            else if (line == "\\.")
            {
                table = null;
            }
            else
            {
                counts[table]++;
            }
        }

        Assert.Null(table);
        return counts;
    }

    private static string MaskCreated(string script) => CreatedValue().Replace(script, "\t<created>");

    [GeneratedRegex(@"\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00$", RegexOptions.Multiline)]
    private static partial Regex CreatedValue();

    [GeneratedRegex(@"^COPY (\S+) \(.*\) FROM stdin;$")]
    private static partial Regex CopyLine();

    [GeneratedRegex(@"ALTER TABLE app\.(big_orders|orders_id_seq|order_totals|customers_id_seq) OWNER")]
    private static partial Regex AlterTableOwnerOfNonTable();
}
