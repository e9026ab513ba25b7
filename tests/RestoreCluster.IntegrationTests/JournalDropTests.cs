using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// The journal is dropped at the end of every normal restore; when that drop fails, the restore has not
/// ended as pg_restore's would (the target holds our schema): exit 1 with a one-line message.
/// </summary>
public sealed class JournalDropTests
{
    [Fact]
    public async Task AFailedFinalJournalDropIsAFailureWithAMessage()
    {
        var server = await PostgresServer.GetSharedAsync();
        var fixtures = await FixtureArchives.GetAsync();
        string target = await server.CreateDatabaseAsync("journal_drop");
        try
        {
            // An event trigger that refuses to drop the journal's schema (and nothing else).
            await server.ExecuteAsync(target, """
                CREATE FUNCTION public.keep_journal() RETURNS event_trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF EXISTS (SELECT FROM pg_event_trigger_dropped_objects() WHERE object_type = 'schema' AND object_name = 'restorecluster_journal') THEN
                    RAISE EXCEPTION 'the journal stays here';
                  END IF;
                END $$
                """);
            await server.ExecuteAsync(target, "CREATE EVENT TRIGGER keep_journal ON sql_drop EXECUTE FUNCTION public.keep_journal()");

            var run = await CliRunner.RunAsync(server, ["restore", "-j", "2", "-d", target, fixtures["rich.custom"].Path], timeout: TimeSpan.FromMinutes(3));
            Assert.Equal(1, run.ExitCode);
            var errors = run.Stderr.Split('\n').Where(l => l.StartsWith("restorecluster: error: ", StringComparison.Ordinal)).ToList();
            Assert.Contains(errors, l => l.Contains("could not drop the journal", StringComparison.Ordinal) && l.Contains("the journal stays here", StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
            Assert.True(await WorkloadChecks.JournalExistsAsync(server, target), "the journal is gone although its drop failed");
        }
        finally
        {
            await server.DropDatabaseAsync(target);
        }
    }
}
