using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text;

namespace RestoreCluster.Cli;

/// <summary>
/// <c>--help</c> and <c>-?</c> for the root and every command. Only the root also takes <c>-h</c>: for
/// <c>restore</c>, as for pg_restore, <c>-h</c> is <c>--host</c>. <c>restore --help</c> groups its options
/// under pg_restore's headings (<see cref="RestoreOptionsSpec.Groups"/>); the other commands keep
/// System.CommandLine's layout.
/// </summary>
internal static class CommandHelp
{
    private const int Width = 100;

    private const string RestoreFooter =
        "The options -I, -n, -N, -P, -t, -T, and --section can be combined and specified\n" +
        "multiple times to select multiple objects.\n\n" +
        "If no input file name is supplied, then standard input is used.";

    /// <summary>Keeps the root's -?, -h, --help to the root, and gives each subcommand its own --help and -?.</summary>
    public static void Configure(RootCommand root, Command restore, RestoreOptionsSpec restoreOptions, CliOutput io)
    {
        foreach (var option in root.Options.OfType<HelpOption>())
        {
            option.Recursive = false;
        }

        foreach (var command in root.Subcommands)
        {
            var help = new HelpOption("--help", "-?");
            if (ReferenceEquals(command, restore))
            {
                help.Action = new GroupedHelp(restoreOptions.Groups, help, io);
            }

            command.Options.Add(help);
        }
    }

    /// <summary>The text of <c>restore --help</c>: usage, the archive argument, then each group of options.</summary>
    public static string Grouped(Command command, IReadOnlyList<OptionGroup> groups, Option help)
    {
        var text = new StringBuilder();
        text.Append("Description:\n  ").Append(command.Description).Append("\n\n");
        text.Append("Usage:\n  restorecluster ").Append(command.Name).Append(" [options] [<archive>]\n\n");
        foreach (var argument in command.Arguments)
        {
            text.Append("Arguments:\n");
            AppendRows(text, [($"<{argument.Name}>", argument.Description ?? "")]);
            text.Append('\n');
        }

        for (int i = 0; i < groups.Count; i++)
        {
            var rows = groups[i].Options.Where(o => !o.Hidden).Select(o => (Label(o), o.Description ?? "")).ToList();
            if (i == 0)
            {
                // pg_restore lists -? under its general options; so do we.
                rows.Add((Label(help), "show this help, then exit"));
            }

            text.Append(groups[i].Heading).Append(":\n");
            AppendRows(text, rows);
            text.Append('\n');
        }

        return text.Append(RestoreFooter).Append('\n').ToString();
    }

    /// <summary><c>-d, --dbname &lt;dbname&gt;</c>: short spellings first, then the long ones, then the value.</summary>
    private static string Label(Option option)
    {
        var names = option.Aliases.Append(option.Name).Distinct()
            .OrderBy(n => n.StartsWith("--", StringComparison.Ordinal) ? 1 : 0)
            .ThenBy(n => n == option.Name ? 0 : 1);
        string label = string.Join(", ", names);
        bool takesValue = option.ValueType != typeof(bool) && option.Arity.MaximumNumberOfValues > 0;
        return takesValue ? $"{label} <{option.HelpName ?? option.Name.TrimStart('-')}>" : label;
    }

    private static void AppendRows(StringBuilder text, IReadOnlyList<(string Label, string Description)> rows)
    {
        int column = Math.Min(rows.Max(r => r.Label.Length) + 4, 40);
        foreach (var (label, description) in rows)
        {
            text.Append("  ").Append(label);
            int at = 2 + label.Length;
            if (at + 2 > column)
            {
                text.Append('\n');
                at = 0;
            }

            foreach (string line in Wrap(description, Width - column))
            {
                text.Append(' ', column - at).Append(line).Append('\n');
                at = 0;
            }
        }
    }

    private static IEnumerable<string> Wrap(string description, int width)
    {
        var line = new StringBuilder();
        foreach (string word in description.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : "").Append(word);
        }

        yield return line.ToString();
    }

    private sealed class GroupedHelp(IReadOnlyList<OptionGroup> groups, HelpOption help, CliOutput io) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            using var stdout = io.OpenStdout();
            stdout.Write(Encoding.UTF8.GetBytes(Grouped(parseResult.CommandResult.Command, groups, help)));
            return ExitCodes.Success;
        }
    }
}
