using System.Globalization;
using System.Reflection;
using Npgsql;
using RestoreCluster.LocalPostgres;

namespace RestoreCluster.Cli.Demo;

/// <summary>What the sample database holds, for the demo's report.</summary>
internal sealed record SampleStats(long EventRows, int Tables, long DatabaseBytes);

/// <summary>
/// The demo's sample database: one big table (<c>events</c>, about <c>scale</c> MB of COPY text), many small
/// ones (<c>ledger_NNN</c>), primary and foreign keys, indexes, a view, a comment and one large object. The
/// big table and the small ones are built on two connections at once (the machine has at least 2 cores).
/// </summary>
internal static class SampleDatabase
{
    public const string Name = "demo_source";

    /// <summary>How many small tables; each becomes five TOC entries (table, data, key, index, foreign key).</summary>
    public const int SmallTables = 200;

    // A row of events is about this long as COPY text: id, account, a 22-character timestamp, a kind, 64 hex digits.
    private const int EventRowBytes = 105;

    public static async Task<SampleStats> BuildAsync(ThrowawayServer server, int scaleMegabytes, CancellationToken cancellationToken)
    {
        await ExecuteAsync(server, "postgres", [$"CREATE DATABASE {Name}"], cancellationToken).ConfigureAwait(false);
        long rows = Math.Max(1000, scaleMegabytes * 1_000_000L / EventRowBytes);
        var values = new Dictionary<string, string>
        {
            ["{rows}"] = rows.ToString(CultureInfo.InvariantCulture),
            ["{small_tables}"] = SmallTables.ToString(CultureInfo.InvariantCulture),
        };
        var big = ExecuteAsync(server, Name, Statements("DemoBigTable.sql", values), cancellationToken);
        var small = ExecuteAsync(server, Name, Statements("DemoSmallTables.sql", values), cancellationToken);
        await Task.WhenAll(big, small).ConfigureAwait(false);
        await ExecuteAsync(server, Name, Statements("DemoConstraints.sql", values), cancellationToken).ConfigureAwait(false);

        await using var connection = new NpgsqlConnection(server.ConnectionString(Name));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'), pg_catalog.pg_database_size(current_database())", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new SampleStats(rows, (int)reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Runs statements one after another on one connection (statements go to the server unsplit, so one each).</summary>
    public static async Task ExecuteAsync(ThrowawayServer server, string database, IEnumerable<string> statements, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (string sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static IEnumerable<string> Statements(string resource, IReadOnlyDictionary<string, string> values)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("RestoreCluster.Cli.Demo." + resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing");
        using var reader = new StreamReader(stream);
        string text = reader.ReadToEnd().ReplaceLineEndings("\n");
        foreach (var (key, value) in values)
        {
            text = text.Replace(key, value, StringComparison.Ordinal);
        }

        // A chunk of only comments would be an empty query: leave those out.
        return text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(chunk => chunk.Split('\n').Any(line => line.Length > 0 && !line.StartsWith("--", StringComparison.Ordinal)))
            .ToList();
    }
}
