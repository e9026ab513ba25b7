using System.Text.RegularExpressions;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// What pg_restore -v and restorecluster -v print on stderr, brought to comparable lines. Our convention:
/// <c>restorecluster: </c> where pg_restore says <c>pg_restore: </c>, one line per message. Left out of
/// pg_restore's text: the server's notices (<c>WARNING:</c>, <c>NOTICE:</c> with their <c>HINT:</c>),
/// which libpq hands to pg_restore with or without -v and restorecluster does not relay.
/// </summary>
internal static partial class VerboseLines
{
    private const string Ours = "restorecluster: ";
    private const string Theirs = "pg_restore: ";

    /// <summary>pg_restore's messages in order, with our program name (for a serial pg_restore).</summary>
    public static List<string> OfPgRestore(string stderr)
    {
        var messages = new List<string>();
        foreach (string line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith(Theirs, StringComparison.Ordinal) || messages.Count == 0)
            {
                messages.Add(line);
            }
            else
            {
                // A message's own line break (a HINT, an entry's tag): ours keeps a message on one line.
                messages[^1] += " " + line;
            }
        }

        return messages.Where(m => !ServerNotice().IsMatch(m))
            .Select(m => m.StartsWith(Theirs, StringComparison.Ordinal) ? Ours + m[Theirs.Length..] : m).ToList();
    }

    /// <summary>Our stderr lines as they are.</summary>
    public static List<string> OfOurs(string stderr) => [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>
    /// pg_restore -j's messages without the program name, sorted. Its worker processes and the leader
    /// write to one stderr, the program name and the message in separate writes, so two messages can come
    /// as <c>pg_restore:pg_restore:  a\nb\n</c>: every program name is taken out and what is left split at
    /// line ends. (Tags with a line break would be split too: use an archive without such tags.)
    /// </summary>
    public static List<string> SortedOfParallelPgRestore(string stderr) =>
        [.. stderr.Replace("pg_restore:", "", StringComparison.Ordinal).Split('\n')
            .Select(l => l.TrimStart(' '))
            .Where(l => l.Length > 0 && !NoticeLine().IsMatch(l))
            .Order(StringComparer.Ordinal)];

    /// <summary>Our lines without the program name, sorted.</summary>
    public static List<string> SortedOfOurs(string stderr) =>
        [.. OfOurs(stderr).Select(l => l.StartsWith(Ours, StringComparison.Ordinal) ? l[Ours.Length..] : l).Order(StringComparer.Ordinal)];

    /// <summary>Equal lists, or a failure that shows where they part.</summary>
    public static void AssertSame(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string what)
    {
        for (int i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            string e = i < expected.Count ? expected[i] : "<end>";
            string a = i < actual.Count ? actual[i] : "<end>";
            if (e != a)
            {
                Assert.Fail($"{what}: line {i + 1} of {expected.Count} differs\n  pg_restore:     {e}\n  restorecluster: {a}");
            }
        }
    }

    [GeneratedRegex(@"^pg_restore: (WARNING|NOTICE):  ")]
    private static partial Regex ServerNotice();

    [GeneratedRegex(@"^(WARNING|NOTICE|HINT|DETAIL):  ")]
    private static partial Regex NoticeLine();
}
