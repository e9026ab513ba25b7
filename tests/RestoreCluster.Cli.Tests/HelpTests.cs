using System.CommandLine;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// <c>--help</c> and <c>-?</c> print usage and exit 0 for the root and every command, reading nothing; usage
/// errors are one line and a hint; <c>restore --help</c> groups every option as pg_restore's help does.
/// </summary>
public sealed partial class HelpTests
{
    public static TheoryData<string, string> EveryCommandAndSpelling()
    {
        var data = new TheoryData<string, string>();
        foreach (string command in CommandNames().Prepend(""))
        {
            data.Add(command, "--help");
            data.Add(command, "-?");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCommandAndSpelling))]
    public void HelpPrintsUsageAndExitsZeroWithoutReadingInput(string command, string spelling)
    {
        var (exit, stdout, stderr) = Run(command.Length == 0 ? [spelling] : [command, spelling]);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal("", stderr);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        // In process the root is named after the test host; the built executable's name is tested in TestSupportTests.
        Assert.Matches(command.Length == 0 ? @"Usage:\n  \S+ \[command\]" : $@"Usage:\n  \S+ {command} ", stdout);
    }

    [Fact]
    public void RootHelpListsEveryCommandUnderCommandsOnePerLineNameFirst()
    {
        var (exit, stdout, _) = Run(["--help"]);

        Assert.Equal(ExitCodes.Success, exit);
        var lines = stdout.Split('\n');
        int heading = Array.IndexOf(lines, "Commands:");
        Assert.True(heading >= 0, stdout);
        var listed = lines.Skip(heading + 1).TakeWhile(l => l.Length > 0).Select(l => l.Trim().Split(' ')[0]).ToList();
        Assert.Equal(CommandNames().Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RootHelpAlsoAnswersDashH()
    {
        var (exit, stdout, _) = Run(["-h"]);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("Commands:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreDashHIsTheHostAsInPgRestore()
    {
        var (exit, _, stderr) = Run(["restore", "-h"]);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("'-h'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryRestoreOptionIsInExactlyOneHelpGroupAndShownOnce()
    {
        var spec = new RestoreOptionsSpec();
        var declared = typeof(RestoreOptionsSpec).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => typeof(Option).IsAssignableFrom(p.PropertyType))
            .Select(p => (Option)p.GetValue(spec)!)
            .ToList();
        var grouped = spec.Groups.SelectMany(g => g.Options).ToList();

        Assert.Equal(declared.Count, grouped.Count);
        Assert.Equal(declared.ToHashSet(), grouped.ToHashSet());
        string help = Run(["restore", "--help"]).Stdout;
        foreach (var option in declared)
        {
            Assert.Single(Regex.Matches(help, $@"^  (-\S, )*{Regex.Escape(option.Name)}(?=[ ,]|$)", RegexOptions.Multiline));
        }
    }

    [Fact]
    public async Task RestoreHelpGroupsPgRestoresOptionsUnderPgRestoresHeadings()
    {
        var server = await PostgresServer.GetSharedAsync();
        var reference = await server.RunToolAsync("pg_restore", ["--help"]);
        reference.EnsureSuccess();
        var theirs = LongOptionsByHeading(reference.StdoutText);
        var ours = LongOptionsByHeading(Run(["restore", "--help"]).Stdout);

        Assert.Equal(["General options", "Options controlling the restore", "Connection options"], theirs.Keys);
        Assert.Equal([.. theirs.Keys, "RestoreCluster options"], ours.Keys);
        foreach (var (heading, options) in theirs)
        {
            // pg_restore -V prints pg_restore's version; ours is the root's --version.
            var expected = options.Where(o => o != "--version").ToList();
            Assert.Equal(expected, ours[heading].Where(expected.Contains).ToList());
            Assert.Empty(expected.Except(ours[heading]));
        }
    }

    [Fact]
    public void ForgetHelpListsRestoresConnectionOptionsAndDryRun()
    {
        var (exit, stdout, stderr) = Run(["forget", "--help"]);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal("", stderr);
        string restoreHelp = Run(["restore", "--help"]).Stdout;
        foreach (string option in new[] { "--host", "--port", "--username", "--no-password", "--password" })
        {
            // The same definitions as restore's: the same spellings and descriptions.
            string Row(string help) => help.Split('\n').Single(l => OptionLine().Match(l) is { Success: true } m && m.Groups[1].Value == option);
            Assert.Equal(Regex.Replace(Row(restoreHelp).Trim(), " {2,}", "  "), Regex.Replace(Row(stdout).Trim(), " {2,}", "  "));
        }

        Assert.Matches(@"(?m)^  -d, --dbname <NAME>\s+the database whose journal to forget", stdout);
        Assert.Matches(@"(?m)^  --dry-run\s+say what would be forgotten, and drop nothing", stdout);
        Assert.Contains("restorecluster_journal", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("forget", "forget", "--bogus")]
    [InlineData("restore", "restore", "--bogus", "-f", "-", "x.dump")]
    [InlineData("restore", "restore", "x.dump")]
    [InlineData("list", "list", "--bogus")]
    [InlineData("", "--bogus")]
    [InlineData("", "nosuchcommand")]
    public void UsageErrorsAreOneLineAndAHintToTheCommandsHelp(string command, params string[] args)
    {
        var (exit, _, stderr) = Run(args);

        Assert.Equal(ExitCodes.Usage, exit);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("restorecluster: error: ", lines[0], StringComparison.Ordinal);
        string help = command.Length == 0 ? "restorecluster --help" : $"restorecluster {command} --help";
        Assert.Equal($"Try \"{help}\" for more information.", lines[1]);
    }

    private static IEnumerable<string> CommandNames()
    {
        var (_, stdout, _) = Run(["--help"]);
        var lines = stdout.Split('\n');
        return lines.SkipWhile(l => l != "Commands:").Skip(1).TakeWhile(l => l.Length > 0).Select(l => l.Trim().Split(' ')[0]).ToList();
    }

    /// <summary>The long options of each "Heading:" block of a help text, in order.</summary>
    private static Dictionary<string, List<string>> LongOptionsByHeading(string help)
    {
        var groups = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (string line in help.Split('\n'))
        {
            if (HeadingLine().Match(line) is { Success: true } heading)
            {
                current = groups[heading.Groups[1].Value] = [];
            }
            else if (current is not null && OptionLine().Match(line) is { Success: true } option)
            {
                current.Add(option.Groups[1].Value);
            }
            else if (line.Length == 0)
            {
                current = null;
            }
        }

        return groups.Where(g => g.Value.Count > 0 && g.Key.Contains("options", StringComparison.OrdinalIgnoreCase)).ToDictionary();
    }

    private static (int Exit, string Stdout, string Stderr) Run(string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var io = new CliOutput(() => stdout, stderr, () => throw new InvalidOperationException("help must not read standard input"));
        int exit = Program.Run(args, io);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    [GeneratedRegex(@"^([A-Z][A-Za-z ]+):$")]
    private static partial Regex HeadingLine();

    // "  -d, --dbname=NAME  ..." (pg_restore) or "  -d, --dbname <NAME>  ..." (ours): the first long spelling.
    [GeneratedRegex(@"^  (?:-\S, )*(--[a-z0-9-]+)")]
    private static partial Regex OptionLine();
}
