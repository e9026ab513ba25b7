using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>-d, -h/-p/-U and the libpq environment resolve as libpq resolves them.</summary>
public sealed class ConnectionTargetTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public void PlainNameIsTheDatabase()
    {
        var t = ConnectionTarget.Resolve("target_db", "db.example", "6543", "alice", NoEnv);

        Assert.Equal(("db.example", 6543, "alice", "target_db"), (t.Host, t.Port, t.User, t.Database));
    }

    [Fact]
    public void KeyValueStringWinsOverOptionsAndUnquotes()
    {
        var t = ConnectionTarget.Resolve("host=h1 port = 7000 dbname='my db' user=u\\ x password='p\\'w'", "h2", "5000", "other", NoEnv);

        Assert.Equal(("h1", 7000, "u x", "my db", "p'w"), (t.Host, t.Port, t.User, t.Database, t.Password));
    }

    [Fact]
    public void UriGivesUserPasswordHostPortDatabaseAndParameters()
    {
        var t = ConnectionTarget.Resolve("postgresql://bob:s%40cret@dbhost:6000/sales?sslmode=require", null, null, null, NoEnv);

        Assert.Equal(("dbhost", 6000, "bob", "sales", "s@cret"), (t.Host, t.Port, t.User, t.Database, t.Password));
        Assert.Equal("require", t.Values["sslmode"]);
    }

    [Fact]
    public void UriWithSocketDirectoryInQuery()
    {
        var t = ConnectionTarget.Resolve("postgres:///db1?host=%2Ftmp%2Fsock&port=5433", null, null, null, NoEnv);

        Assert.Equal(("/tmp/sock", 5433, "db1"), (t.Host, t.Port, t.Database));
    }

    [Fact]
    public void EnvironmentFillsWhatIsMissing()
    {
        var env = new Dictionary<string, string?> { ["PGHOST"] = "envhost", ["PGPORT"] = "5999", ["PGUSER"] = "envuser", ["PGPASSWORD"] = "pw", ["PGDATABASE"] = "envdb" };

        var t = ConnectionTarget.Resolve(null, null, null, "optuser", env);

        Assert.Equal(("envhost", 5999, "optuser", "envdb", "pw"), (t.Host, t.Port, t.User, t.Database, t.Password));
    }

    [Fact]
    public void DescriptionNeverShowsThePassword()
    {
        var t = ConnectionTarget.Resolve("postgresql://bob:hunter2@h/db", null, null, null, NoEnv);

        Assert.DoesNotContain("hunter2", t.ToString(), StringComparison.Ordinal);
        Assert.Equal("h:5432/db as bob", t.ToString());
    }

    [Fact]
    public void BadPortIsRejected()
    {
        Assert.Throws<ArgumentException>(() => ConnectionTarget.Resolve("db", null, "fivefour", null, NoEnv));
        Assert.Throws<ArgumentException>(() => ConnectionTarget.Resolve("host=x dbname", null, null, null, NoEnv));
    }

    [Fact]
    public void TlsKeywordsComeFromTheTargetThenTheEnvironment()
    {
        string root = Path.GetTempFileName();
        try
        {
            var env = new Dictionary<string, string?> { ["PGSSLMODE"] = "verify-ca", ["PGSSLROOTCERT"] = "/nowhere/root.crt" };
            var fromEnv = ConnectionTarget.Resolve("db", null, null, null, env).Tls;
            var fromTarget = ConnectionTarget.Resolve($"dbname=db sslmode=verify-full sslrootcert={root}", null, null, null, env).Tls;

            Assert.Equal((Npgsql.SslMode.VerifyCA, null, "/nowhere/root.crt"), (fromEnv.Mode, fromEnv.RootCertificate, fromEnv.RootLookedFor));
            Assert.True(fromEnv.VerifiesServer);
            Assert.Equal((Npgsql.SslMode.VerifyFull, root), (fromTarget.Mode, fromTarget.RootCertificate));
        }
        finally
        {
            File.Delete(root);
        }
    }

    [Fact]
    public void RequireWithARootFileVerifiesTheChainAsLibpqDoesAndPreferIsTheDefault()
    {
        string root = Path.GetTempFileName();
        try
        {
            Assert.Equal(Npgsql.SslMode.VerifyCA, ConnectionTarget.Resolve($"dbname=db sslmode=require sslrootcert={root}", null, null, null, NoEnv).Tls.Mode);
            Assert.Equal(Npgsql.SslMode.Require, ConnectionTarget.Resolve("dbname=db sslmode=require sslrootcert=/nowhere/root.crt", null, null, null, NoEnv).Tls.Mode);
            Assert.Equal(Npgsql.SslMode.Prefer, ConnectionTarget.Resolve("dbname=db", null, null, null, NoEnv).Tls.Mode);
        }
        finally
        {
            File.Delete(root);
        }
    }

    [Theory]
    [InlineData("sslmode=maybe")]
    [InlineData("sslmode=verify_full")]
    [InlineData("sslmode=Require")]
    public void AnSslModeLibpqDoesNotKnowIsRefused(string keyword)
    {
        var e = Assert.Throws<ArgumentException>(() => ConnectionTarget.Resolve($"dbname=db {keyword}", null, null, null, NoEnv));
        Assert.Equal($"invalid sslmode value: \"{keyword["sslmode=".Length..]}\"", e.Message);
    }
}
