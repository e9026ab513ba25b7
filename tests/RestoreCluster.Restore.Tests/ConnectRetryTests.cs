using System.Net.Sockets;
using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// A connect that fails because the server is restarting, briefly down or full is tried again with bounded
/// backoff, each retry a warning; a wrong target (host name, database, role, password) fails at once. The
/// classification first, then each case against a real server.
/// </summary>
public sealed class ConnectRetryTests
{
    private const string Secret = "Sup3rSecretPw";
    private static readonly ArchiveEncoding Utf8 = ArchiveEncoding.ForName("UTF8")!;
    private static readonly RetryBackoff Quick = new(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));

    [Theory]
    [InlineData("57P03", true)] // cannot_connect_now: starting up, shutting down
    [InlineData("53300", true)] // too_many_connections
    [InlineData("08006", true)] // connection_failure
    [InlineData("08001", true)]
    [InlineData("08P01", true)]
    [InlineData("57P01", true)] // admin_shutdown: a backend terminated by the restart while it authenticated
    [InlineData("28P01", false)] // invalid_password
    [InlineData("28000", false)] // invalid_authorization_specification (no such role, no pg_hba.conf entry)
    [InlineData("3D000", false)] // invalid_catalog_name: no such database
    [InlineData("42501", false)]
    [InlineData("53200", false)]
    public void ServerErrorsAtConnectAreRetriedOnlyWhileTheServerCannotTakeTheSession(string sqlState, bool transient)
    {
        var e = new PostgresException("message", "FATAL", "FATAL", sqlState);

        Assert.Equal(transient, ConnectFaults.IsTransient(e));
    }

    [Theory]
    [InlineData(SocketError.ConnectionRefused, true)]
    [InlineData(SocketError.AddressNotAvailable, true)] // the Unix socket file is gone while the postmaster restarts
    [InlineData(SocketError.ConnectionReset, true)]
    [InlineData(SocketError.HostNotFound, false)]
    [InlineData(SocketError.TryAgain, false)]
    [InlineData(SocketError.NoData, false)]
    public void SocketErrorsAreRetriedUnlessTheHostNameDoesNotResolve(SocketError error, bool transient)
    {
        var socket = new SocketException((int)error);

        Assert.Equal(transient, ConnectFaults.IsTransient(socket));
        Assert.Equal(transient, ConnectFaults.IsTransient(new NpgsqlException("Failed to connect", socket)));
    }

    [Fact]
    public void TheConnectTimeoutAndOtherFailuresAreNotRetried()
    {
        Assert.False(ConnectFaults.IsTransient(new NpgsqlException("The operation has timed out", new TimeoutException())));
        Assert.False(ConnectFaults.IsTransient(new NpgsqlException("No password has been provided but the backend requires one")));
        Assert.True(ConnectFaults.IsTransient(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
    }

    [Fact]
    public void TheDefaultBackoffIsUnitSessionsShape()
    {
        var b = RetryBackoff.Default;

        Assert.Equal(6, b.MaxAttempts);
        Assert.Equal([200, 400, 800, 1600, 3200, 5000], Enumerable.Range(1, 6).Select(a => b.DelayAfter(a).TotalMilliseconds));
    }

    [Fact]
    public void ARefusedPortIsRetriedWithWarningsThenFailsInOneLineCountingTheAttemptsWithoutThePassword()
    {
        var target = ConnectionTarget.Resolve($"host=127.0.0.1 port=1 dbname=x user=postgres password={Secret}", null, null, null, new Dictionary<string, string?>());
        var warnings = new List<string>();
        var connector = new TargetConnector(target, Utf8, promptPassword: null, warnings.Add, Quick);

        var e = Assert.Throws<RestoreFailedException>(() => connector.Open("x"));

        const string Failed = "connection to server at 127.0.0.1:1/x as postgres failed: Failed to connect to 127.0.0.1:1: Connection refused";
        Assert.Equal(Failed + "; gave up after 3 attempts", e.Message);
        Assert.Equal([Failed + "; retrying in 2 ms (attempt 2 of 3)", Failed + "; retrying in 4 ms (attempt 3 of 3)"], warnings);
        Assert.Equal(2, connector.Retries);
        Assert.DoesNotContain(Secret, e.Message + string.Concat(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooManyConnectionsIsRetriedWithTheDefaultBackoffUntilTheServerTakesTheSession()
    {
        var server = await PostgresServer.GetSharedAsync();
        string role = $"rc_connlimit_{Guid.NewGuid():N}"[..24];
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} LOGIN PASSWORD '{Secret}' CONNECTION LIMIT 0");
        try
        {
            var target = ConnectionTarget.Resolve(
                $"host={server.Host} port={server.Port} dbname=postgres user={role} password={Secret}", null, null, null, new Dictionary<string, string?>());
            var warnings = new List<string>();
            // The first refusal frees a slot: the retry 200 ms later gets in.
            var connector = new TargetConnector(target, Utf8, promptPassword: null, w =>
            {
                warnings.Add(w);
                using var admin = new NpgsqlConnection(server.ConnectionString("postgres"));
                admin.Open();
                using var raise = new NpgsqlCommand($"ALTER ROLE {role} CONNECTION LIMIT -1", admin);
                raise.ExecuteNonQuery();
            });

            using (var conn = connector.Open("postgres"))
            {
                using var cmd = new NpgsqlCommand("SELECT current_user", conn);
                Assert.Equal(role, (string)cmd.ExecuteScalar()!);
            }

            string expected = $"connection to server at {target} failed: FATAL:  too many connections for role \"{role}\"; retrying in 200 ms (attempt 2 of 6)";
            Assert.Equal([expected], warnings);
            Assert.Equal(1, connector.Retries);
        }
        finally
        {
            await server.ExecuteAsync("postgres", $"DROP ROLE IF EXISTS {role}");
        }
    }

    [Theory]
    [InlineData("database", "database \"rc_no_such_database\" does not exist")]
    [InlineData("role", "role \"rc_no_such_role\" does not exist")]
    [InlineData("host", "no-such-host.invalid")]
    public async Task AWrongTargetFailsAtTheFirstAttemptWithoutWarnings(string wrong, string expected)
    {
        var server = await PostgresServer.GetSharedAsync();
        var values = new Dictionary<string, string>(ConnectionTarget.Resolve(server.LibpqConnectionString("postgres"), null, null, null, new Dictionary<string, string?>()).Values);
        switch (wrong)
        {
            case "database":
                values["dbname"] = "rc_no_such_database";
                break;
            case "role":
                values["user"] = "rc_no_such_role";
                break;
            default:
                values["host"] = "no-such-host.invalid";
                break;
        }

        var target = ConnectionTarget.FromValues(values);
        var warnings = new List<string>();
        var connector = new TargetConnector(target, Utf8, promptPassword: null, warnings.Add);

        var e = Assert.Throws<RestoreFailedException>(() => connector.Open(target.Database));

        Assert.StartsWith($"connection to server at {target} failed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("gave up", e.Message, StringComparison.Ordinal);
        Assert.Empty(warnings);
        Assert.Equal(0, connector.Retries);
    }

    [Fact]
    public async Task AWrongPasswordFailsAtTheFirstAttemptWithoutWarnings()
    {
        await using var server = await PostgresServer.StartAsync();
        const string Role = "rc_password_role";
        await server.ExecuteAsync("postgres", $"CREATE ROLE {Role} LOGIN PASSWORD '{Secret}'");
        await server.RequirePasswordOverTcpAsync(Role);
        var target = ConnectionTarget.Resolve($"host=127.0.0.1 port={server.Port} dbname=postgres user={Role} password=wrong-{Secret}", null, null, null, new Dictionary<string, string?>());
        var warnings = new List<string>();
        var connector = new TargetConnector(target, Utf8, promptPassword: null, warnings.Add);

        var e = Assert.Throws<RestoreFailedException>(() => connector.Open("postgres"));

        Assert.Equal($"connection to server at {target} failed: FATAL:  password authentication failed for user \"{Role}\"", e.Message);
        Assert.Equal("28P01", Assert.IsType<PostgresException>(e.InnerException).SqlState);
        Assert.Empty(warnings);
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
    }
}
