using System.Text;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>
/// Which pg_restore a script follows: a 1.14 archive (pg_dump 15) is scripted as pg_restore 15 scripts it; a 1.15
/// (pg_dump 16) or 1.16 (pg_dump 17/18) archive as pg_restore 18 does, whose archiver code sends
/// <c>SET transaction_timeout = 0</c> and names a sequence, view or materialized view by its own kind in ALTER ... OWNER
/// whatever the archive's version. Built with the spec writer: no pg_dump 16 runs here.
/// </summary>
public sealed class ScriptRulesByVersionTests
{
    [Theory]
    [InlineData("1.14.0", false)]
    [InlineData("1.15.0", true)]
    [InlineData("1.16.0", true)]
    public async Task ScriptFollowsPgRestore15ForArchive114AndPgRestore18After(string version, bool pg18)
    {
        string directory = Directory.CreateTempSubdirectory("restorecluster-rules-").FullName;
        try
        {
            var archive = SpecArchives.Sample(SpecVersion.Parse(version), SpecFormat.Custom, SpecCompression.None, largeObjects: false);
            string path = Path.Combine(directory, "sample.dump");
            new SpecArchiveWriter().Write(archive, path);

            var run = await CliRunner.RunAsync(["restore", "-f", "-", path]);

            Assert.True(run.ExitCode == 0, run.Describe());
            string script = Encoding.UTF8.GetString(run.Stdout);
            Assert.Equal(pg18, script.Contains("SET idle_in_transaction_session_timeout = 0;\nSET transaction_timeout = 0;\nSET client_encoding", StringComparison.Ordinal));
            Assert.Equal(!pg18, script.Contains("SET idle_in_transaction_session_timeout = 0;\nSET client_encoding", StringComparison.Ordinal));
            Assert.Contains(pg18 ? "ALTER SEQUENCE app.items_id_seq OWNER TO postgres;\n" : "ALTER TABLE app.items_id_seq OWNER TO postgres;\n", script, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // RestoreArchive's -v line when no schema entry is selected (here an -L list of the table's data alone): pg_restore
    // 15's "implied data-only restore", which pg_restore 18 words "implied no-schema restore".
    [Theory]
    [InlineData("1.14.0", "implied data-only restore")]
    [InlineData("1.15.0", "implied no-schema restore")]
    [InlineData("1.16.0", "implied no-schema restore")]
    public async Task VerboseNamesTheImpliedDataOnlyRestoreInItsPgRestoresWords(string version, string line)
    {
        string directory = Directory.CreateTempSubdirectory("restorecluster-rules-").FullName;
        try
        {
            var archive = SpecArchives.Sample(SpecVersion.Parse(version), SpecFormat.Custom, SpecCompression.None, largeObjects: false);
            string path = Path.Combine(directory, "sample.dump");
            new SpecArchiveWriter().Write(archive, path);
            string list = Path.Combine(directory, "data.list");
            await File.WriteAllTextAsync(list, "3350; 0 16387 TABLE DATA app items postgres\n");

            var run = await CliRunner.RunAsync(["restore", "-v", "-L", list, "-f", "/dev/null", path]);

            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Contains($"restorecluster: {line}\n", run.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
