using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Archive;
using RestoreCluster.Planning;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// The STATISTICS DATA entries of pg_dump 18 --statistics archives (Fixtures/archives/pg18/stats18.*): the whole
/// <c>-f</c> script equals pg_dump 18's own text of the same database, and --no-statistics, --statistics-only,
/// --section and -t keep what pg_restore 18's _tocEntryRequired keeps (facts in Fixtures/archives/README.md).
/// </summary>
public sealed partial class Pg18StatisticsTests
{
    private const string Key = "FIXTUREKEY";

    private static readonly string Dir = RepoPaths.Pg18ArchivesDirectory;

    public static TheoryData<string> StatsArchives() => ["stats18.dump", "stats18.none.dump", "stats18.dir", "stats18.tar"];

    private static string Expected => File.ReadAllText(Path.Combine(Dir, "stats18.sql"), Encoding.UTF8);

    [Theory]
    [MemberData(nameof(StatsArchives))]
    public async Task ScriptEqualsPgDump18sOwnTextByteForByte(string name)
    {
        var run = await ListTools.CliAsync(["restore", "-f", "-", "--restrict-key=" + Key, Path.Combine(Dir, name)]);

        Assert.True(run.Succeeded, run.Describe());
        Assert.Equal("", run.Stderr);
        Assert.True(run.Stdout.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Dir, "stats18.sql"))),
            "differs from stats18.sql: " + FirstDifference(Expected, run.StdoutText));
    }

    [Theory]
    [MemberData(nameof(StatsArchives))]
    public async Task ListShowsTheStatisticsEntriesWithAnEmptyOwner(string name)
    {
        string archive = Path.Combine(Dir, name);

        var all = await ListTools.CliAsync(["list", archive]);
        var none = await ListTools.CliAsync(["restore", "-l", "--no-statistics", archive]);
        var only = await ListTools.CliAsync(["restore", "-l", "--statistics-only", archive]);

        // PrintTOCSummary: "%d; %u %u %s %s %s %s" with the NULL owner sanitized to "".
        Assert.Contains("\n2609; 0 0 STATISTICS DATA public accounts \n", all.StdoutText, StringComparison.Ordinal);
        Assert.Contains("\n2613; 0 0 STATISTICS DATA public measurements_lower_sensor_idx \n", all.StdoutText, StringComparison.Ordinal);
        Assert.Equal(7, StatsLines(all.StdoutText));
        Assert.Equal(28 - 4, EntryLines(all.StdoutText)); // ENCODING, STDSTRINGS, SEARCHPATH and DATABASE are not listed
        Assert.Equal(0, StatsLines(none.StdoutText));
        Assert.Equal(EntryLines(all.StdoutText) - 7, EntryLines(none.StdoutText));
        Assert.Equal(7, StatsLines(only.StdoutText));
        Assert.Equal(7, EntryLines(only.StdoutText));
    }

    [Fact]
    public async Task NoStatisticsScriptsTheSourceWithoutItsStatisticsBlocks()
    {
        var run = await ListTools.CliAsync(["restore", "-f", "-", "--restrict-key=" + Key, "--no-statistics", Path.Combine(Dir, "stats18.dump")]);
        string script = run.StdoutText;

        Assert.True(run.Succeeded, run.Describe());
        Assert.Equal(StatisticsBlock().Replace(Expected, ""), script);
        Assert.DoesNotContain("pg_restore_relation_stats", script, StringComparison.Ordinal);
        Assert.DoesNotContain("pg_restore_attribute_stats", script, StringComparison.Ordinal);
        Assert.DoesNotContain("Type: STATISTICS DATA", script, StringComparison.Ordinal);
        Assert.Contains("CREATE STATISTICS public.measurements_sensor_flag_stx (ndistinct, dependencies) ON sensor, flag FROM public.measurements;", script, StringComparison.Ordinal);
        Assert.Contains("ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;", script, StringComparison.Ordinal);
        Assert.Contains("CREATE POLICY accounts_owner_select", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatisticsOnlyScriptsTheSevenStatisticsBlocksInRestoreOrder()
    {
        var run = await ListTools.CliAsync(["restore", "-f", "-", "--restrict-key=" + Key, "--statistics-only", Path.Combine(Dir, "stats18.dump")]);
        string script = run.StdoutText;

        Assert.True(run.Succeeded, run.Describe());
        var blocks = StatisticsBlock().Matches(script).Select(m => m.Value).ToList();
        Assert.Equal(StatisticsBlock().Matches(Expected).Select(m => m.Value), blocks);
        Assert.Equal(["accounts", "empty_log", "measurements", "accounts_pkey", "measurements_lower_sensor_idx", "measurements_pkey", "sensor_summary"],
            blocks.Select(b => Heading().Match(b).Groups[1].Value));
        Assert.Equal(7, Regex.Count(script, "pg_restore_relation_stats"));
        Assert.Equal(14, Regex.Count(script, "pg_restore_attribute_stats"));
        Assert.DoesNotContain("CREATE ", script, StringComparison.Ordinal);
        Assert.DoesNotContain("COPY ", script, StringComparison.Ordinal);

        // What is left is the script's frame: header, settings and the closing lines.
        string frame = StatisticsBlock().Replace(script, "");
        Assert.DoesNotContain("\n-- Name:", frame, StringComparison.Ordinal);
        Assert.Contains("SET row_security = off;\n\n", frame, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--section=data", new[] { "accounts", "empty_log", "measurements" })]
    [InlineData("--section=post-data", new[] { "accounts_pkey", "measurements_lower_sensor_idx", "measurements_pkey", "sensor_summary" })]
    public async Task SectionsKeepTheirStatistics(string section, string[] tags)
    {
        foreach (string extra in new[] { "", "--statistics-only" })
        {
            string[] options = extra.Length == 0 ? [section] : [section, extra];
            var run = await ListTools.CliAsync(["restore", "-f", "-", "--restrict-key=" + Key, .. options, Path.Combine(Dir, "stats18.tar")]);

            Assert.True(run.Succeeded, run.Describe());
            Assert.Equal(tags, StatisticsBlock().Matches(run.StdoutText).Select(m => Heading().Match(m.Value).Groups[1].Value));
        }
    }

    [Fact]
    public async Task InASelectiveRestoreStatisticsFollowTheirRelation()
    {
        // -t selects the table (and its data); its statistics depend on it, the index's on the index, which -t leaves out.
        var run = await ListTools.CliAsync(["restore", "-l", "-t", "measurements", Path.Combine(Dir, "stats18.dump")]);

        Assert.True(run.Succeeded, run.Describe());
        Assert.Equal(["TABLE public measurements", "TABLE DATA public measurements", "STATISTICS DATA public measurements"],
            run.StdoutText.Split('\n').Where(l => Regex.IsMatch(l, @"^\d+; ")).Select(l => Regex.Replace(l, @"^\d+; \d+ \d+ ", "").Replace(" postgres", "").TrimEnd()));
    }

    [Fact]
    public async Task SchemaOnlyAndDataOnlyLeaveStatisticsOutAsPgRestore18Does()
    {
        string archive = Path.Combine(Dir, "stats18.dump");

        var schema = await ListTools.CliAsync(["restore", "-l", "-s", archive]);
        var data = await ListTools.CliAsync(["restore", "-l", "-a", archive]);
        var noData = await ListTools.CliAsync(["restore", "-l", "--no-data", archive]);

        Assert.Equal(0, StatsLines(schema.StdoutText));
        Assert.Equal(0, StatsLines(data.StdoutText));
        // --no-data keeps the statistics (dumpStatistics stays true), -s does not.
        Assert.Equal(7, StatsLines(noData.StdoutText));
    }

    [Theory]
    [MemberData(nameof(StatsArchives))]
    public void TheParallelPlanRunsStatisticsInPg18sPassesAfterWhatTheyDependOn(string name)
    {
        using var archive = PgArchive.Open(Path.Combine(Dir, name));
        var plan = RestorePlan.Build(archive.Entries, EntrySelector.Select(archive.Entries, archive, SelectionOptions.Default));

        // Table statistics (DATA) in the main pass, index and matview statistics (POST_DATA) in the post-ACL pass.
        var stats = plan.Units.Where(u => u.Desc == "STATISTICS DATA").ToDictionary(u => u.Id);
        Assert.Equal([2609, 2610, 2611, 2612, 2613, 2614, 2615], stats.Keys.Order());
        Assert.All(stats.Values, u => Assert.Equal(RestoreParts.Stats, u.Parts));
        Assert.All([2609, 2610, 2611], id => Assert.Equal(RestorePass.Main, stats[id].Pass));
        Assert.All([2612, 2613, 2614, 2615], id => Assert.Equal(RestorePass.PostAcl, stats[id].Pass));
        Assert.DoesNotContain(plan.Prefork, id => stats.ContainsKey(id));
        // The matview's statistics wait for its REFRESH, an index's for the index; the boundary objects 2602/2603 name no entry.
        Assert.Contains(2601, stats[2615].Dependencies);
        Assert.Contains(2437, stats[2613].Dependencies);
        Assert.Contains(2444, stats[2612].Dependencies);
        Assert.Equal(RestorePass.PostAcl, plan.GetUnit(2601)!.Pass);
    }

    private static int StatsLines(string list) => Regex.Count(list, @"^\d+; 0 0 STATISTICS DATA ", RegexOptions.Multiline);

    private static int EntryLines(string list) => Regex.Count(list, @"^\d+; ", RegexOptions.Multiline);

    private static string FirstDifference(string expected, string actual)
    {
        int at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at])
        {
            at++;
        }

        int start = Math.Max(0, at - 80);
        return $"at char {at}: expected …{expected[start..Math.Min(expected.Length, at + 80)]}… got …{actual[start..Math.Min(actual.Length, at + 80)]}…";
    }

    // One entry as _printTocEntry writes it: the heading, its SQL (no empty line in it), then the two empty lines of "%s\n\n".
    [GeneratedRegex(@"--\n-- Statistics for Name: [^\n]*\n--\n\n(?:[^\n]+\n)+\n\n")]
    private static partial Regex StatisticsBlock();

    [GeneratedRegex(@"-- Statistics for Name: (\S+);")]
    private static partial Regex Heading();
}
