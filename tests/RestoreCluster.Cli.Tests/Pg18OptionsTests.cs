using System.Text.RegularExpressions;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// pg_restore 17 and 18's options on the command line: their conflicts and value errors in pg_restore 18's words
/// (exit code 2), --filter's errors naming the file and line (exit code 1), and the equivalences the PostgreSQL 18
/// documentation gives, checked on the PostgreSQL 15 fixture archives (which have no statistics).
/// </summary>
public sealed partial class Pg18OptionsTests : IDisposable
{
    private const string Key = "Pg18OptKey";

    private readonly string _dir = Directory.CreateTempSubdirectory("restorecluster-pg18opts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string> Conflicts() => new()
    {
        // pg_restore.c (18.4), in its order: the first conflicting pair is the one named.
        { "-s --statistics-only", "options -s/--schema-only and --statistics-only cannot be used together" },
        { "-a --statistics-only", "options -a/--data-only and --statistics-only cannot be used together" },
        { "-a --no-data", "options -a/--data-only and --no-data cannot be used together" },
        { "-s --no-schema", "options -s/--schema-only and --no-schema cannot be used together" },
        { "--statistics-only --no-statistics", "options --statistics-only and --no-statistics cannot be used together" },
        { "--statistics --no-statistics", "options --statistics and --no-statistics cannot be used together" },
        { "-a --statistics", "options -a/--data-only and --statistics cannot be used together" },
        { "-s --statistics", "options -s/--schema-only and --statistics cannot be used together" },
        { "-1 --transaction-size=10", "options -1/--single-transaction and --transaction-size cannot be used together" },
        { "-s -a --no-data", "options -s/--schema-only and -a/--data-only cannot be used together" },
        { "--transaction-size=abc", "invalid value \"abc\" for option --transaction-size" },
        { "--transaction-size=0", "--transaction-size must be in range 1..2147483647" },
        { "--transaction-size=99999999999", "--transaction-size must be in range 1..2147483647" },
    };

    [Theory]
    [MemberData(nameof(Conflicts))]
    public async Task ConflictingOrBadOptionsAreUsageErrorsInPgRestore18sWords(string options, string message)
    {
        var run = await ListTools.CliAsync(["restore", .. options.Split(' '), "-f", "/dev/null", "/nonexistent.dump"]);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.StartsWith($"restorecluster: error: {message}\n", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--no-data --no-schema")]
    [InlineData("--statistics-only --statistics")]
    [InlineData("-c --no-schema")]
    [InlineData("--transaction-size=7")]
    public async Task CombinationsPgRestore18AllowsRun(string options)
    {
        var archive = (await FixtureArchives.GetAsync())["rich.custom"];

        var run = await ListTools.CliAsync(["restore", .. options.Split(' ', StringSplitOptions.RemoveEmptyEntries), "-f", "/dev/null", archive.Path]);

        Assert.True(run.ExitCode == 0, run.Describe());
    }

    [Theory]
    [InlineData(" 7 ", 7)]
    [InlineData("+12", 12)]
    [InlineData("2147483647", int.MaxValue)]
    public void TransactionSizeIsReadAsOptionParseIntReadsIt(string value, int expected) =>
        Assert.Equal(expected, RestoreCommand.ParseInt(value, "--transaction-size", 1, int.MaxValue));

    [Theory]
    [InlineData("", "--transaction-size must be in range 1..2147483647")]
    [InlineData("-3", "--transaction-size must be in range 1..2147483647")]
    [InlineData("2147483648", "--transaction-size must be in range 1..2147483647")]
    [InlineData("7x", "invalid value \"7x\" for option --transaction-size")]
    [InlineData("-", "invalid value \"-\" for option --transaction-size")]
    public void BadTransactionSizesGetOptionParseIntsMessages(string value, string message)
    {
        var e = Assert.Throws<CliError>(() => RestoreCommand.ParseInt(value, "--transaction-size", 1, int.MaxValue));

        Assert.Equal(message, e.Message);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    [Fact]
    public async Task ABadFilterLineIsOneErrorNamingTheFileAndLine()
    {
        string filter = Path.Combine(_dir, "bad.filter");
        await File.WriteAllTextAsync(filter, "include table customers\nexclude table orders\n");

        var run = await ListTools.CliAsync(["restore", "--filter", filter, "-f", "/dev/null", "/nonexistent.dump"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"restorecluster: error: invalid format in filter read from file \"{filter}\" on line 2: exclude filter for \"table\" is not allowed\n", run.Stderr);
    }

    [Fact]
    public async Task AMissingFilterFileIsNamed()
    {
        string filter = Path.Combine(_dir, "missing.filter");

        var run = await ListTools.CliAsync(["restore", "--filter=" + filter, "-f", "/dev/null", "/nonexistent.dump"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"restorecluster: error: could not open filter file \"{filter}\": No such file or directory\n", run.Stderr);
    }

    public static TheoryData<string> FixtureArchiveNames() => ["rich.custom", "nasty.directory", "latin1.tar"];

    [Theory]
    [MemberData(nameof(FixtureArchiveNames))]
    public async Task NoDataScriptsWhatSchemaOnlyScripts(string name)
    {
        string archive = (await FixtureArchives.GetAsync())[name].Path;

        AssertSameScript(await ScriptAsync(archive, "-s"), await ScriptAsync(archive, "--no-data"), $"{name}: --no-data vs -s");
    }

    [Theory]
    [MemberData(nameof(FixtureArchiveNames))]
    public async Task NoSchemaScriptsWhatDataOnlyScripts(string name)
    {
        string archive = (await FixtureArchives.GetAsync())[name].Path;

        AssertSameScript(await ScriptAsync(archive, "-a"), await ScriptAsync(archive, "--no-schema"), $"{name}: --no-schema vs -a");
        AssertSameScript(await ScriptAsync(archive, "-a", "--disable-triggers"), await ScriptAsync(archive, "--no-schema", "--disable-triggers"), $"{name}: with --disable-triggers");
    }

    [Fact]
    public async Task FilterIncludesSelectAsTheirCommandLineOptionsDo()
    {
        string archive = (await FixtureArchives.GetAsync())["rich.custom"].Path;
        string filter = Path.Combine(_dir, "tables.filter");
        await File.WriteAllTextAsync(filter, "# the two tables\ninclude table customers\ninclude table orders\n\ninclude schema app\nexclude schema audit\n");

        var viaFilter = await ScriptAsync(archive, "--filter", filter);
        var viaOptions = await ScriptAsync(archive, "-t", "customers", "-t", "orders", "-n", "app", "-N", "audit");

        AssertSameScript(viaOptions, viaFilter, "--filter vs -t -n -N");
        Assert.Contains("CREATE TABLE app.customers", viaFilter.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE TABLE app.order_items", viaFilter.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilterIncludeTableEqualsDashT()
    {
        string archive = (await FixtureArchives.GetAsync())["rich.custom"].Path;
        string filter = Path.Combine(_dir, "one.filter");
        await File.WriteAllTextAsync(filter, "include table customers\n");

        AssertSameScript(await ScriptAsync(archive, "-t", "customers"), await ScriptAsync(archive, "--filter=" + filter), "--filter vs -t");
        AssertSameScript(await ListTools.CliAsync(["restore", "-l", "-t", "customers", archive]), await ListTools.CliAsync(["restore", "-l", "--filter", filter, archive]), "-l");
    }

    // pg_restore.c (18.4) reads a --filter file when getopt reaches it (read_restore_filters appends to the lists -t, -n,
    // ... append to), so a filter's names sit where the option stands: --strict-names names the first unmatched one.
    [Theory]
    [InlineData("include table from_filter", "--filter FILE -t from_option -t customers", "table \"from_filter\" not found")]
    [InlineData("include table from_filter", "-t from_option --filter FILE", "table \"from_option\" not found")]
    [InlineData("include table from_filter", "-t customers --filter FILE -t from_option", "table \"from_filter\" not found")]
    [InlineData("include schema from_filter", "-n app --filter FILE -n from_option", "schema \"from_filter\" not found")]
    public async Task FilterNamesTakeTheFilterOptionsPlaceAmongTheCommandLinesNames(string filterLine, string options, string expected)
    {
        string archive = (await FixtureArchives.GetAsync())["rich.custom"].Path;
        string filter = Path.Combine(_dir, "order.filter");
        await File.WriteAllTextAsync(filter, filterLine + "\n");

        var run = await ListTools.CliAsync(["restore", "--strict-names", .. options.Replace("FILE", filter).Split(' '), "-f", "/dev/null", archive]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"restorecluster: error: {expected}\n", run.Stderr);
    }

    [Theory]
    [InlineData("rich.custom")]
    [InlineData("rich.tar")]
    public async Task NoPoliciesLeavesOutPoliciesRowSecurityAndTheirCommentsAndNothingElse(string name)
    {
        string archive = (await FixtureArchives.GetAsync())[name].Path;
        using var toc = PgArchive.Open(archive);
        // pg_restore 18's _tocEntryRequired: POLICY and ROW SECURITY entries, and COMMENT entries tagged "POLICY ...".
        var policyIds = toc.Entries
            .Where(e => e.Desc is "POLICY" or "ROW SECURITY" || (e.Desc == "COMMENT" && e.Tag.StartsWith("POLICY", StringComparison.Ordinal)))
            .Select(e => e.DumpId)
            .ToHashSet();
        Assert.Contains(toc.Entries, e => e.Desc == "POLICY" && policyIds.Contains(e.DumpId));

        var all = ListedIds(await ListTools.CliAsync(["list", archive]));
        var without = ListedIds(await ListTools.CliAsync(["restore", "-l", "--no-policies", archive]));

        Assert.Equal(all.Where(id => !policyIds.Contains(id)), without);
        var script = (await ScriptAsync(archive, "--no-policies")).StdoutText;
        Assert.DoesNotContain("CREATE POLICY", script, StringComparison.Ordinal);
        Assert.DoesNotContain("ROW LEVEL SECURITY", script, StringComparison.Ordinal);
        Assert.Contains("CREATE POLICY", (await ScriptAsync(archive)).StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransactionSizeOneCommitsAfterEveryEntryOfTheScript()
    {
        string archive = (await FixtureArchives.GetAsync())["rich.custom"].Path;

        string script = (await ScriptAsync(archive, "--transaction-size=1")).StdoutText;
        int entries = ListedIds(await ListTools.CliAsync(["list", archive])).Count;

        // pg_restore 17: BEGIN after the session settings, COMMIT and BEGIN again after every N objects, COMMIT at the end.
        Assert.Contains("SET row_security = off;\n\nBEGIN;\n\n", script, StringComparison.Ordinal);
        Assert.Equal(entries, Regex.Count(script, "^COMMIT;\nBEGIN;\n\n", RegexOptions.Multiline));
        Assert.EndsWith("COMMIT;\nBEGIN;\n\nCOMMIT;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict " + Key + "\n\n", script, StringComparison.Ordinal);
        // Large objects go without a BEGIN/COMMIT of their own inside the blocks.
        Assert.DoesNotContain("BEGIN;\n\nBEGIN;", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransactionSizeCountsEachCommandOfADefinitionAndTheCleanDrops()
    {
        string archive = (await FixtureArchives.GetAsync())["rich.custom"].Path;

        string large = (await ScriptAsync(archive, "--transaction-size=1000000")).StdoutText;
        string clean = (await ScriptAsync(archive, "-c", "--transaction-size=1")).StdoutText;

        // No limit reached: one block only. With -c each DROP counts one, committed as "COMMIT;\nBEGIN;\n" without a blank line.
        Assert.Equal(1, Regex.Count(large, "^BEGIN;$", RegexOptions.Multiline));
        Assert.Contains(";\nCOMMIT;\nBEGIN;\nDROP ", clean, StringComparison.Ordinal);
    }

    private static async Task<ProcessResult> ScriptAsync(string archive, params string[] options) =>
        await ListTools.CliAsync(["restore", .. options, "--restrict-key=" + Key, "-f", "-", archive]);

    private static void AssertSameScript(ProcessResult expected, ProcessResult actual, string what) =>
        ListTools.AssertSameOutput(expected, actual, what);

    private static List<int> ListedIds(ProcessResult list)
    {
        Assert.True(list.Succeeded, list.Describe());
        return list.StdoutText.Split('\n').Select(l => ListedId().Match(l)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToList();
    }

    [GeneratedRegex(@"^(\d+); ")]
    private static partial Regex ListedId();
}
