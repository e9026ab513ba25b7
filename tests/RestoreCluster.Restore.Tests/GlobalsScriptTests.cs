using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// A fleet host's globals file (pg_dumpall --globals-only, here real 15.18 output with its \restrict lines) runs as
/// psql runs it: statement by statement, failures counted as psql counts them, psql's own lines left out.
/// </summary>
public sealed class GlobalsScriptTests
{
    private static readonly string Fixture = Path.Combine(RepoPaths.FixturesDirectory, "globals", "pg_dumpall-15.18-globals.sql");

    [Fact]
    public void TheRestrictLinesAreLeftOutAndTheSqlKeptStatementByStatement()
    {
        var statements = GlobalsScript.Read(Fixture);

        Assert.DoesNotContain(statements, s => s.Contains(@"\restrict", StringComparison.Ordinal) || s.Contains(@"\unrestrict", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.TrimEnd().EndsWith("CREATE ROLE \"Fleet Quoted\";", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.TrimEnd().EndsWith("GRANT fleet_reader TO fleet_owner GRANTED BY postgres;", StringComparison.Ordinal));
        Assert.Equal(12, statements.Count);
    }

    [Fact]
    public void AnyOtherMetaCommandIsRefusedWithItsLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => GlobalsScript.Parse("CREATE ROLE a;\n\\connect other\nCREATE ROLE b;\n", "g.sql"));
        Assert.Equal(@"g.sql:2: psql meta-command \connect in a globals file: only \restrict and \unrestrict are understood", e.Message);
    }

    [Fact]
    public async Task RunTwiceItCountsTheErrorsPsqlCountsAndCreatesTheRoles()
    {
        var server = await PostgresServer.GetSharedAsync();
        var target = ConnectionTarget.Resolve(server.LibpqConnectionString("postgres"), null, null, null, new Dictionary<string, string?>());
        var statements = GlobalsScript.Read(Fixture);
        // Whatever existed before, after one run every role of the file does.
        GlobalsScript.Run(statements, target, _ => { });

        var messages = new List<string>();
        int ours = GlobalsScript.Run(statements, target, messages.Add);
        var psql = await server.RunToolAsync("psql", ["-X", "-q", "-f", Fixture, "-d", server.LibpqConnectionString("postgres")]);

        int psqlErrors = psql.Stderr.Split('\n').Count(l => l.Contains(" ERROR:  ", StringComparison.Ordinal));
        Assert.True(psql.ExitCode == 0, psql.Describe());
        Assert.Equal(4, psqlErrors);
        Assert.Equal(psqlErrors, ours);
        Assert.Contains("ERROR:  role \"fleet_owner\" already exists", messages);
        Assert.True(await server.ScalarAsync<bool>("postgres", "SELECT pg_has_role('fleet_owner', 'fleet_reader', 'MEMBER')"));
    }
}
