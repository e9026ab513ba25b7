using System.Text;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>Runs <c>restorecluster</c> and the real <c>pg_restore</c> side by side for the listing tests.</summary>
internal static class ListTools
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>UTC and two zones with daylight saving time on opposite sides of the Atlantic.</summary>
    public static readonly string[] TimeZones = ["UTC", "Europe/Berlin", "America/New_York"];

    public static string[] FixtureNames { get; } = ["rich", "nasty", "latin1"];

    /// <summary>Every fixture archive name, e.g. <c>rich.custom</c>, <c>latin1.tar</c>.</summary>
    public static TheoryData<string> AllArchives()
    {
        var data = new TheoryData<string>();
        foreach (var fixture in FixtureNames)
        {
            foreach (var kind in Enum.GetValues<FixtureArchiveKind>())
            {
                data.Add($"{fixture}.{FixtureArchive.VariantOf(kind)}");
            }
        }

        return data;
    }

    public static Dictionary<string, string> Env(string timeZone = "UTC") => new(StringComparer.Ordinal)
    {
        ["TZ"] = timeZone,
        ["LC_ALL"] = "C",
    };

    /// <summary>The real pg_restore (from the fixture server's binaries); -l and -f need no connection.</summary>
    public static async Task<ProcessResult> PgRestoreAsync(IEnumerable<string> args, string timeZone = "UTC", byte[]? stdin = null)
    {
        var server = await PostgresServer.GetSharedAsync();
        return await server.RunToolAsync("pg_restore", args, Env(timeZone), stdin, Timeout);
    }

    public static Task<ProcessResult> CliAsync(IEnumerable<string> args, string timeZone = "UTC", byte[]? stdin = null) =>
        CliRunner.RunAsync(args, Env(timeZone), stdin, Timeout);

    /// <summary>Asserts both processes succeeded and printed the same bytes; the message shows the first difference.</summary>
    public static void AssertSameOutput(ProcessResult expected, ProcessResult actual, string what)
    {
        Assert.True(expected.Succeeded, $"{what}: pg_restore failed: {expected.Describe()}");
        Assert.True(actual.Succeeded, $"{what}: restorecluster failed: {actual.Describe()}");
        if (expected.Stdout.AsSpan().SequenceEqual(actual.Stdout))
        {
            return;
        }

        // Latin-1 keeps every byte visible, so the diff is exact for any encoding.
        string e = Encoding.Latin1.GetString(expected.Stdout);
        string a = Encoding.Latin1.GetString(actual.Stdout);
        int at = 0;
        while (at < e.Length && at < a.Length && e[at] == a[at])
        {
            at++;
        }

        int lineStart = e.LastIndexOf('\n', Math.Max(0, Math.Min(at, e.Length) - 1)) + 1;
        Assert.Fail($"{what}: outputs differ at byte {at} (pg_restore {e.Length} bytes, restorecluster {a.Length} bytes)\n"
            + $"pg_restore:    {Snippet(e, lineStart)}\nrestorecluster: {Snippet(a, lineStart)}");
    }

    private static string Snippet(string s, int from) =>
        from >= s.Length ? "<end>" : s.Substring(from, Math.Min(200, s.Length - from)).Replace("\n", "\\n", StringComparison.Ordinal);
}
