using System.Text.RegularExpressions;
using Npgsql;
using RestoreCluster.LocalPostgres;

namespace RestoreCluster.Testing;

/// <summary>
/// A PostgreSQL server for tests: a private one started from the local binaries (one shared per test
/// process, or a dedicated one), or an existing server named by <c>RESTORECLUSTER_TEST_PG</c>.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>Environment variable naming an existing superuser connection (libpq key=value or URI).</summary>
    public const string ExternalServerVariable = "RESTORECLUSTER_TEST_PG";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(CreateSharedAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    private static int databaseCounter;

    private readonly string? password;
    private readonly string? sslMode;
    private readonly ThrowawayServer? local;

    private PostgresServer(string host, int port, string userName, string? password, string? sslMode, ThrowawayServer? local)
    {
        Host = host;
        Port = port;
        UserName = userName;
        this.password = password;
        this.sslMode = sslMode;
        this.local = local;
    }

    public string Host { get; }

    public int Port { get; }

    public string UserName { get; }

    /// <summary>The unix socket directory of a private server; null for an external one.</summary>
    public string? SocketDirectory => local?.SocketDirectory;

    /// <summary>
    /// Makes TCP logins of <paramref name="role"/> need a password (scram-sha-256), the rest staying trusted.
    /// Only for servers this harness started.
    /// </summary>
    public async Task RequirePasswordOverTcpAsync(string role, CancellationToken cancellationToken = default)
    {
        if (local is null)
        {
            throw new InvalidOperationException("password authentication can only be set up on a server the tests started");
        }

        local.PrependHbaLine($"host all {role} 127.0.0.1/32 scram-sha-256");
        await ExecuteAsync("postgres", "SELECT pg_reload_conf()", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Restarts a server this harness started, as <c>pg_ctl restart -m fast</c> does (its sessions are
    /// terminated), keeping it down for <paramref name="downtime"/>; it comes back on the same port and socket
    /// directory and accepts connections when this returns. Pooled connections to it are dropped. With
    /// <paramref name="immediate"/> it stops as <c>pg_ctl stop -m immediate</c> does (a crash: WAL not yet written is lost).
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken = default, bool immediate = false)
    {
        if (local is null)
        {
            throw new InvalidOperationException("only a server the tests started can be restarted");
        }

        await local.RestartAsync(downtime, cancellationToken, immediate).ConfigureAwait(false);
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Where pg_dump, pg_restore and psql live (the installed PostgreSQL's, whatever major the server is).</summary>
    public string BinDirectory => PgBinaries.BinDirectory;

    /// <summary>True when this is an existing server from <see cref="ExternalServerVariable"/>.</summary>
    public bool IsExternal => local is null;

    /// <summary>The server shared by all tests of this process; stopped when the process exits.</summary>
    public static Task<PostgresServer> GetSharedAsync() => Shared.Value;

    /// <summary>Starts a dedicated private server; the caller disposes it.</summary>
    public static Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(null, [], cancellationToken);

    /// <summary>
    /// Starts a dedicated private server from <paramref name="binaries"/> (null: the installed PostgreSQL) with more
    /// <paramref name="settings"/> (<c>name=value</c>); the caller disposes it. Client tools still come from the installed one.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(ServerBinaries? binaries, IReadOnlyList<string> settings, CancellationToken cancellationToken = default)
    {
        // The watchdog cleans up after a test host that is killed before its exit handlers run.
        var options = new ThrowawayServerOptions { Started = TempDirectoryWatchdog.StartAsync, Binaries = binaries, Settings = settings };
        var instance = await ThrowawayServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        return new PostgresServer("127.0.0.1", instance.Port, ThrowawayServer.SuperUser, null, null, instance);
    }

    /// <summary>Uses an existing server (libpq key=value string or postgres:// URI) after checking it answers.</summary>
    public static async Task<PostgresServer> ConnectAsync(string libpqConnectionString, CancellationToken cancellationToken = default)
    {
        var info = LibpqConnectionInfo.Parse(libpqConnectionString);
        var server = new PostgresServer(info.Host, info.Port, info.UserName, info.Password, info.SslMode, null);
        await server.ScalarAsync<int>("postgres", "select 1", cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/>.</summary>
    public string ConnectionString(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = UserName,
            Database = database,
            Timeout = 15,
            CommandTimeout = 300,
        };
        if (password is not null)
        {
            builder.Password = password;
        }

        if (sslMode is not null)
        {
            builder.SslMode = Enum.Parse<SslMode>(sslMode.Replace("-", ""), ignoreCase: true);
        }

        return builder.ConnectionString;
    }

    /// <summary>A libpq key=value connection string for <paramref name="database"/> (for pg tools and our CLI).</summary>
    public string LibpqConnectionString(string database)
    {
        var parts = new List<string>
        {
            "host=" + LibpqConnectionInfo.QuoteValue(Host),
            "port=" + Port,
            "user=" + LibpqConnectionInfo.QuoteValue(UserName),
            "dbname=" + LibpqConnectionInfo.QuoteValue(database),
        };
        if (password is not null)
        {
            parts.Add("password=" + LibpqConnectionInfo.QuoteValue(password));
        }

        if (sslMode is not null)
        {
            parts.Add("sslmode=" + LibpqConnectionInfo.QuoteValue(sslMode));
        }

        return string.Join(' ', parts);
    }

    /// <summary>The libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE) for this server.</summary>
    public IDictionary<string, string> LibpqEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGHOST"] = Host,
            ["PGPORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = UserName,
        };
        if (password is not null)
        {
            env["PGPASSWORD"] = password;
        }

        if (sslMode is not null)
        {
            env["PGSSLMODE"] = sslMode;
        }

        return env;
    }

    /// <summary>Creates a database with a unique name starting with <paramref name="prefix"/> and returns the name.</summary>
    /// <param name="encoding">Null for the server default (UTF8); otherwise e.g. LATIN1 or SQL_ASCII (C locale, template0).</param>
    public async Task<string> CreateDatabaseAsync(string prefix, string? encoding = null, CancellationToken cancellationToken = default)
    {
        var clean = Regex.Replace(prefix.ToLowerInvariant(), "[^a-z0-9_]", "_");
        clean = clean[..Math.Min(clean.Length, 30)];
        var name = $"{clean}_{Environment.ProcessId}_{Interlocked.Increment(ref databaseCounter)}_{Guid.NewGuid().ToString("N")[..8]}";
        var sql = $"CREATE DATABASE \"{name}\"";
        if (encoding is not null)
        {
            sql += $" TEMPLATE template0 ENCODING '{encoding.Replace("'", "''")}' LC_COLLATE 'C' LC_CTYPE 'C'";
        }

        await ExecuteAsync("postgres", sql, cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>Drops a database, disconnecting its sessions.</summary>
    public Task DropDatabaseAsync(string database, CancellationToken cancellationToken = default) =>
        ExecuteAsync("postgres", $"DROP DATABASE IF EXISTS \"{database.Replace("\"", "\"\"")}\" WITH (FORCE)", cancellationToken);

    /// <summary>Runs SQL (one or more statements) in <paramref name="database"/>.</summary>
    public async Task ExecuteAsync(string database, string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a query and returns the first column of the first row.</summary>
    public async Task<T?> ScalarAsync<T>(string database, string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? default : (T)value;
    }

    /// <summary>
    /// Runs a PostgreSQL client binary (pg_dump, pg_restore, psql, ...) from <see cref="BinDirectory"/>
    /// against this server: PGHOST/PGPORT/PGUSER (and PGPASSWORD) are set; <paramref name="env"/> adds to or overrides them.
    /// </summary>
    public Task<ProcessResult> RunToolAsync(
        string tool,
        IEnumerable<string> args,
        IDictionary<string, string>? env = null,
        byte[]? stdin = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        CancellationToken cancellationToken = default)
    {
        var fullEnv = LibpqEnvironment();
        if (env is not null)
        {
            foreach (var (key, value) in env)
            {
                fullEnv[key] = value;
            }
        }

        return ProcessRunner.RunAsync(PgBinaries.Tool(tool), args, fullEnv, stdin, timeout, workingDirectory, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (local is not null)
        {
            await local.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Task<PostgresServer> CreateSharedAsync()
    {
        var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
        return string.IsNullOrWhiteSpace(external) ? StartAsync() : ConnectAsync(external);
    }
}
