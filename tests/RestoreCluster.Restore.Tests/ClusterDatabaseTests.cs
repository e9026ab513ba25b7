using Npgsql;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>--cluster takes an Npgsql connection string and every form -d takes, with the libpq environment.</summary>
public sealed class ClusterDatabaseTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public void NpgsqlConnectionStringGivesHostPortUserDatabaseAndPassword()
    {
        var c = ClusterDatabase.Resolve("Host=db.example;Port=6000;Username=alice;Database=cluster;Password=s3cret", NoEnv)!;

        Assert.Equal(("db.example", 6000, "alice", "cluster", "s3cret"), (c.Target.Host, c.Target.Port, c.Target.User, c.Target.Database, c.Target.Password));
        Assert.Equal("db.example:6000/cluster as alice", c.ToString());
    }

    [Fact]
    public void NpgsqlSynonymsAndQuotedValuesAreRead()
    {
        var c = ClusterDatabase.Resolve("Server=h1; User ID=bob; DB=\"my;db\"; SSL Mode=VerifyFull", NoEnv)!;

        Assert.Equal(("h1", "bob", "my;db", "verify-full"), (c.Target.Host, c.Target.User, c.Target.Database, c.Target.Values["sslmode"]));
    }

    [Theory]
    [InlineData("clusterdb", "clusterdb", "envhost")]
    [InlineData("host=h2 dbname=clusterdb user=u", "clusterdb", "h2")]
    [InlineData("postgresql://u@h3:5999/clusterdb", "clusterdb", "h3")]
    public void EveryFormOfDashDIsAccepted(string value, string database, string host)
    {
        var env = new Dictionary<string, string?> { ["PGHOST"] = "envhost", ["PGUSER"] = "envuser" };

        var c = ClusterDatabase.Resolve(value, env)!;

        Assert.Equal((database, host), (c.Target.Database, c.Target.Host));
    }

    [Fact]
    public void TheEnvironmentVariableIsTheDefault()
    {
        var env = new Dictionary<string, string?> { [ClusterDatabase.EnvironmentVariable] = "Host=h9;Database=fromenv;Username=x" };

        Assert.Equal("fromenv", ClusterDatabase.Resolve(null, env)!.Target.Database);
        Assert.Null(ClusterDatabase.Resolve(null, NoEnv));
    }

    [Fact]
    public void UnknownNpgsqlKeywordIsOneLineError()
    {
        var e = Assert.Throws<ArgumentException>(() => ClusterDatabase.Resolve("Host=h;Databse=x", NoEnv));

        Assert.Contains("\"databse\"", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ClusterSessionsArePooledWithABoundedConnectTime()
    {
        var b = new NpgsqlConnectionStringBuilder(ClusterDatabase.Resolve("Host=h;Database=d;Username=u", NoEnv)!.ToNpgsql(connectTimeoutSeconds: 4));

        Assert.True(b.Pooling);
        Assert.Equal(4, b.Timeout);
    }

    [Fact]
    public void APasswordFileThatDoesNotExistIsIgnoredAsLibpqDoes()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-pgpass-{Guid.NewGuid():N}");
        var env = new Dictionary<string, string?> { ["PGPASSFILE"] = missing };

        var b = new NpgsqlConnectionStringBuilder(ClusterDatabase.Resolve("Host=h;Database=d;Username=u", env)!.ToNpgsql());

        Assert.Equal(ConnectionTarget.NoPasswordFile, b.Passfile);
    }

    [Fact]
    public void APasswordFileThatExistsIsUsed()
    {
        string file = Path.GetTempFileName();
        try
        {
            var env = new Dictionary<string, string?> { ["PGPASSFILE"] = file };

            var b = new NpgsqlConnectionStringBuilder(ClusterDatabase.Resolve("Host=h;Database=d;Username=u", env)!.ToNpgsql());

            Assert.Equal(file, b.Passfile);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
