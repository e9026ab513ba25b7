using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The catalog fingerprint (the comparison used on PostgreSQL 16+, which pg_dump 15 cannot dump) agrees with pg_dump
/// equality on PostgreSQL 15: equal for pg_restore's and our restores of the same archive, whose dumps are equal, and
/// different wherever a deliberate change makes the dumps differ.
/// </summary>
public sealed class CatalogFingerprintTests(CatalogFingerprintTests.RichRestore reference) : IClassFixture<CatalogFingerprintTests.RichRestore>
{
    /// <summary>
    /// pg_restore's restore of rich.custom, its dump and fingerprint, made once for the class; and an untouched copy
    /// (made before anything connected to the restore) that each change starts from as a template.
    /// </summary>
    public sealed class RichRestore : IAsyncLifetime
    {
        public PostgresServer Server { get; private set; } = null!;

        public string Template { get; private set; } = "";

        public string Dump { get; private set; } = "";

        public string Fingerprint { get; private set; } = "";

        private string database = "";

        public async Task InitializeAsync()
        {
            var fixtures = await FixtureArchives.GetAsync();
            Server = fixtures.Server;
            database = await Server.CreateDatabaseAsync("fpc_pg");
            (await Server.RunToolAsync("pg_restore", ["-d", database, fixtures["rich.custom"].Path], timeout: TimeSpan.FromMinutes(3))).EnsureSuccess();
            Template = database + "_t";
            await Server.ExecuteAsync("postgres", $"CREATE DATABASE \"{Template}\" TEMPLATE \"{database}\"");
            Dump = await RestoreComparison.DumpAsync(Server, database);
            Fingerprint = await CatalogFingerprint.TakeAsync(Server, database);
        }

        public async Task DisposeAsync()
        {
            await Server.DropDatabaseAsync(Template);
            await Server.DropDatabaseAsync(database);
        }
    }

    public static TheoryData<string, string> EqualCases() => new()
    {
        { "rich.custom", "" },
        { "rich.directory", "-j 2" },
        { "nasty.custom", "-j 2" },
        { "nasty.tar", "" },
        { "latin1.directory", "" },
    };

    [Theory]
    [MemberData(nameof(EqualCases))]
    public async Task FingerprintsAreEqualWherePgDumpsAreEqual(string name, string jobs)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures[name].Path;
        string refDb = await server.CreateDatabaseAsync("fp_pg");
        string ourDb = await server.CreateDatabaseAsync("fp_rc");
        try
        {
            (await server.RunToolAsync("pg_restore", ["-d", refDb, archive], timeout: TimeSpan.FromMinutes(3))).EnsureSuccess();
            var ours = await CliRunner.RunAsync(server, ["restore", .. Split(jobs), "--progress", "none", "-d", ourDb, archive], timeout: TimeSpan.FromMinutes(3));
            Assert.True(ours.ExitCode == 0, ours.Describe());

            string refDump = await RestoreComparison.DumpAsync(server, refDb);
            string ourDump = await RestoreComparison.DumpAsync(server, ourDb);
            Assert.True(refDump == ourDump, "the precondition, equal dumps, does not hold: " + RestoreComparison.FirstDifference(refDump, ourDump));
            string expected = await CatalogFingerprint.TakeAsync(server, refDb);
            string actual = await CatalogFingerprint.TakeAsync(server, ourDb);
            Assert.True(expected == actual, CatalogFingerprint.Difference(expected, actual));
            // It covers what the fixture holds (not an empty text that is trivially equal).
            Assert.Contains("\nrows ", expected, StringComparison.Ordinal);
            Assert.Contains("\ncolumn ", expected, StringComparison.Ordinal);
        }
        finally
        {
            await server.DropDatabaseAsync(refDb);
            await server.DropDatabaseAsync(ourDb);
        }
    }

    public static TheoryData<string, string> Changes() => new()
    {
        // a name, and the SQL that changes a copy of pg_restore's restore of rich.custom
        { "a row changed", "UPDATE app.products SET title = title || '!' WHERE sku = (SELECT min(sku) FROM app.products)" },
        { "rows reordered", "WITH moved AS (DELETE FROM app.products WHERE sku = (SELECT min(sku) FROM app.products) RETURNING *) INSERT INTO app.products SELECT * FROM moved" },
        { "a comment changed", "COMMENT ON TABLE app.customers IS 'people who buy things (changed)'" },
        { "a column comment dropped", "COMMENT ON COLUMN app.customers.email IS NULL" },
        { "an ACL changed", "REVOKE SELECT ON app.orders FROM app_reader" },
        { "a column ACL changed", "GRANT SELECT (price) ON app.products TO app_reader" },
        { "an index dropped", "DROP INDEX app.events_kind_idx" },
        { "an owner changed", "ALTER TABLE app.readonly_ref OWNER TO app_reader" },
        { "a default changed", "ALTER TABLE app.orders ALTER COLUMN total SET DEFAULT 1" },
        { "a sequence value changed", "SELECT setval('app.invoice_no_seq', 99999)" },
        { "a function body changed", "CREATE OR REPLACE FUNCTION app.normalize_email(e text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(e) $$" },
        { "a constraint changed", "ALTER TABLE app.orders DROP CONSTRAINT orders_total_nonneg, ADD CONSTRAINT orders_total_nonneg CHECK (total > 0) NOT VALID" },
        { "a trigger disabled", "ALTER TABLE app.orders DISABLE TRIGGER USER" },
        { "a view changed", "CREATE OR REPLACE VIEW app.customer_orders AS SELECT c.id AS customer_id, app.normalize_email(c.email) AS email, count(o.id) AS n_orders, coalesce(sum(o.total), 0) AS total FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id WHERE c.id > 1 GROUP BY c.id, c.email" },
        { "a schema ACL changed", "REVOKE USAGE ON SCHEMA app FROM app_reader" },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task FingerprintsDifferWherePgDumpsDiffer(string change, string sql)
    {
        var server = reference.Server;
        string changedDb = $"fpc_x_{Guid.NewGuid():N}";
        try
        {
            // A copy of the restore: the same catalog and the same rows in the same places.
            await server.ExecuteAsync("postgres", $"CREATE DATABASE \"{changedDb}\" TEMPLATE \"{reference.Template}\"");
            string unchanged = await CatalogFingerprint.TakeAsync(server, changedDb);
            await server.ExecuteAsync(changedDb, sql);

            string changedDump = await RestoreComparison.DumpAsync(server, changedDb);
            Assert.True(reference.Dump != changedDump, $"the precondition, different dumps, does not hold for {change}");
            string actual = await CatalogFingerprint.TakeAsync(server, changedDb);
            Assert.Equal(reference.Fingerprint, unchanged);
            Assert.NotEqual(reference.Fingerprint, actual);
        }
        finally
        {
            await server.DropDatabaseAsync(changedDb);
        }
    }

    private static string[] Split(string options) => options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
