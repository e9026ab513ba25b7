using RestoreCluster.Cli.Fleet;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>The dry run's checks: roles pg_dump's ACLs name, roles a pg_dumpall globals file creates, the database -C and -c expect.</summary>
public sealed class FleetChecksTests
{
    [Fact]
    public void RolesInGrantsRevokesAndDefaultPrivilegesAreFoundQuotedOrNotButNotPublic()
    {
        string acl = """
            REVOKE ALL ON TABLE public.t FROM PUBLIC;
            GRANT SELECT ON TABLE public.t TO app_reader;
            GRANT ALL ON TABLE public.t TO "Fixture ""Quoted"" Role" WITH GRANT OPTION;
            ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA s GRANT SELECT ON TABLES TO a, b;
            """;

        Assert.Equal(["app_reader", "Fixture \"Quoted\" Role", "app_owner", "a", "b"], FleetChecks.RolesIn(acl));
    }

    [Fact]
    public void TheRolesAGlobalsFileCreatesAreItsCreateRoleStatements()
    {
        string path = Path.Combine(Testing.RepoPaths.FixturesDirectory, "globals", "pg_dumpall-15.18-globals.sql");
        var created = FleetChecks.RolesCreated(GlobalsScript.Read(path));
        Assert.Equal(["Fleet Quoted", "fleet_owner", "fleet_reader", "postgres"], created.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CreateWantsNoDatabaseUnlessCleanAndWithoutCreateTheTargetMustExist()
    {
        var target = ConnectionTarget.Resolve("host=h port=5432 dbname=sales user=u", null, null, null, new Dictionary<string, string?>());
        var databases = new HashSet<string> { "postgres", "sales" };

        Assert.Null(FleetChecks.DatabaseProblem([], new RestoreOptions(), target, databases));
        Assert.Contains("does not exist", FleetChecks.DatabaseProblem([], new RestoreOptions(), target, new HashSet<string> { "postgres" }), StringComparison.Ordinal);
    }
}
