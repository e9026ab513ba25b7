using System.Text;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// <c>restorecluster list</c> and <c>restore -l</c> print exactly what the real <c>pg_restore -l</c> prints,
/// byte for byte, for every fixture archive, in several time zones, from standard input, and with selection options.
/// </summary>
public sealed class ListParityTests
{
    public static TheoryData<string> AllArchives() => ListTools.AllArchives();

    [Theory]
    [MemberData(nameof(AllArchives))]
    public async Task ListPrintsWhatPgRestoreListPrintsInEveryTimeZone(string name)
    {
        var archive = (await FixtureArchives.GetAsync())[name];

        foreach (var zone in ListTools.TimeZones)
        {
            var expected = await ListTools.PgRestoreAsync(["-l", archive.Path], zone);
            var actual = await ListTools.CliAsync(["list", archive.Path], zone);

            ListTools.AssertSameOutput(expected, actual, $"{name} TZ={zone}");
        }
    }

    [Theory]
    [MemberData(nameof(AllArchives))]
    public async Task RestoreDashLAndVerboseListingsMatchListAndPgRestore(string name)
    {
        var archive = (await FixtureArchives.GetAsync())[name];

        var list = await ListTools.CliAsync(["list", archive.Path]);
        var restoreList = await ListTools.CliAsync(["restore", "-l", archive.Path]);
        var pgVerbose = await ListTools.PgRestoreAsync(["-l", "-v", archive.Path]);
        var listVerbose = await ListTools.CliAsync(["list", "-v", archive.Path]);
        var restoreVerbose = await ListTools.CliAsync(["restore", "-l", "-v", archive.Path]);

        ListTools.AssertSameOutput(list, restoreList, $"{name}: restore -l vs list");
        ListTools.AssertSameOutput(pgVerbose, listVerbose, $"{name}: list -v");
        ListTools.AssertSameOutput(pgVerbose, restoreVerbose, $"{name}: restore -l -v");
        Assert.Contains(";\tdepends on:", listVerbose.StdoutText);
    }

    /// <summary>
    /// Header times pg_restore reinterprets in the restoring machine's zone: summer with and without the
    /// DST flag, winter with a wrong DST flag, a spring-forward gap and a fall-back overlap.
    /// </summary>
    public static TheoryData<string, int, int, int, int, int, int> PatchedDates() => new()
    {
        // label, year (since 1900), mon (0-based), mday, hour, min, isdst
        { "july-dst", 124, 6, 15, 12, 34, 1 },
        { "july-nodst", 124, 6, 15, 12, 34, 0 },
        { "january-dst", 124, 0, 15, 23, 59, 1 },
        { "berlin-spring-gap", 124, 2, 31, 2, 30, 0 },
        { "new-york-spring-gap", 124, 2, 10, 2, 30, 1 },
        { "berlin-fall-overlap-dst", 124, 9, 27, 2, 30, 1 },
        { "berlin-fall-overlap-std", 124, 9, 27, 2, 30, 0 },
        { "new-year-midnight", 100, 0, 1, 0, 0, 0 },
        { "negative-dst-flag", 124, 6, 1, 6, 0, -1 },
    };

    [Theory]
    [MemberData(nameof(PatchedDates))]
    public async Task PatchedHeaderDatesPrintAsPgRestorePrintsThem(string label, int year, int mon, int mday, int hour, int min, int isdst)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var bytes = await File.ReadAllBytesAsync(fixtures["rich.custom"].Path);
        PatchHeaderTime(bytes, sec: 7, min, hour, mday, mon, year, isdst);
        var path = Path.Combine(fixtures.Directory, $"patched-{label}-{Guid.NewGuid():N}.dump");
        await File.WriteAllBytesAsync(path, bytes);
        try
        {
            foreach (var zone in ListTools.TimeZones)
            {
                var expected = await ListTools.PgRestoreAsync(["-l", path], zone);
                var actual = await ListTools.CliAsync(["list", path], zone);

                ListTools.AssertSameOutput(expected, actual, $"{label} TZ={zone}");
                if (label == "july-dst" && zone == "Europe/Berlin")
                {
                    Assert.Contains("; Archive created at 2024-07-15 12:34:07 CEST\n", actual.StdoutText);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string> StdinArchives() => new() { "rich.piped", "nasty.piped", "latin1.piped", "rich.custom", "nasty.tar" };

    [Theory]
    [MemberData(nameof(StdinArchives))]
    public async Task ListFromStandardInputMatchesPgRestoreReadingStandardInput(string name)
    {
        var archive = (await FixtureArchives.GetAsync())[name];
        var bytes = await File.ReadAllBytesAsync(archive.Path);

        var expected = await ListTools.PgRestoreAsync(["-l"], stdin: bytes);
        var dash = await ListTools.CliAsync(["list", "-"], stdin: bytes);
        var noArgument = await ListTools.CliAsync(["list"], stdin: bytes);
        var restoreDash = await ListTools.CliAsync(["restore", "-l"], stdin: bytes);

        ListTools.AssertSameOutput(expected, dash, $"{name}: list -");
        ListTools.AssertSameOutput(expected, noArgument, $"{name}: list");
        ListTools.AssertSameOutput(expected, restoreDash, $"{name}: restore -l");
    }

    public static TheoryData<string, string> SelectionCases()
    {
        var options = new[]
        {
            "-n app",
            "-t customers",
            "-x",
            "--section=data",
            "--section=pre-data --section=post-data",
            "-n app -t customers",
            "-N app",
            "-s",
            "-a",
            "-C",
            "-x -n audit",
            "-t nonexistent_table",
        };
        var data = new TheoryData<string, string>();
        foreach (var o in options)
        {
            data.Add("rich.custom", o);
        }

        data.Add("rich.tar", "-n app -x");
        data.Add("rich.directory", "--section=data");
        data.Add("nasty.custom", "-n nasty");
        data.Add("nasty.custom", "-t many_rows");
        data.Add("latin1.custom", "-a");
        return data;
    }

    [Theory]
    [MemberData(nameof(SelectionCases))]
    public async Task RestoreDashLWithSelectionOptionsMatchesPgRestore(string name, string options)
    {
        var archive = (await FixtureArchives.GetAsync())[name];
        string[] args = [.. options.Split(' '), "-l", archive.Path];

        var expected = await ListTools.PgRestoreAsync(args);
        var actual = await ListTools.CliAsync(["restore", .. args]);

        ListTools.AssertSameOutput(expected, actual, $"{name} {options}");
    }

    [Theory]
    [InlineData("rich.custom")]
    [InlineData("rich.tar")]
    [InlineData("nasty.directory")]
    [InlineData("latin1.custom-z0")]
    public async Task RestoreDashLWithAUseListFileMatchesPgRestore(string name)
    {
        var fixtures = await FixtureArchives.GetAsync();
        var archive = fixtures[name];
        var full = await ListTools.PgRestoreAsync(["-l", archive.Path]);
        Assert.True(full.Succeeded, full.Describe());
        var listFile = Path.Combine(fixtures.Directory, $"uselist-{Guid.NewGuid():N}.list");
        await File.WriteAllBytesAsync(listFile, BuildUseList(full.Stdout));
        try
        {
            foreach (string[] extra in new[] { Array.Empty<string>(), ["-v"], ["-n", "app"] })
            {
                string[] args = ["-l", "-L", listFile, .. extra, archive.Path];

                var expected = await ListTools.PgRestoreAsync(args);
                var actual = await ListTools.CliAsync(["restore", .. args]);

                ListTools.AssertSameOutput(expected, actual, $"{name} -L {string.Join(' ', extra)}");
            }
        }
        finally
        {
            File.Delete(listFile);
        }
    }

    /// <summary>
    /// A -L file edited as people do: entries reordered (reversed), every third one dropped, comments, blank
    /// lines, a duplicate, leading spaces, a trailing comment after the id and an id beyond the archive's range.
    /// </summary>
    private static byte[] BuildUseList(byte[] listing)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < listing.Length; i++)
        {
            if (listing[i] == (byte)'\n')
            {
                lines.Add(listing[start..i]);
                start = i + 1;
            }
        }

        var entries = lines.Where(l => l.Length > 0 && l[0] != (byte)';').Reverse().Where((_, i) => i % 3 != 2).ToList();
        var output = new MemoryStream();
        void Add(byte[] line)
        {
            output.Write(line);
            output.WriteByte((byte)'\n');
        }

        Add(";\n; edited by hand"u8.ToArray());
        Add([]);
        for (int i = 0; i < entries.Count; i++)
        {
            Add(i % 5 == 1 ? [.. "   "u8, .. entries[i]] : entries[i]);
            if (i == 2)
            {
                Add(entries[0]);
                Add("  ;  commented out"u8.ToArray());
            }
        }

        Add(Encoding.ASCII.GetBytes("999999; 0 0 TABLE DATA nowhere nothing nobody"));
        Add("not a number"u8.ToArray());
        return output.ToArray();
    }

    /// <summary>Writes the seven tm_* ints of a custom archive header (archive-format.md §3, §11).</summary>
    internal static void PatchHeaderTime(byte[] archive, int sec, int min, int hour, int mday, int mon, int year, int isdst)
    {
        Assert.True(archive.AsSpan(0, 5).SequenceEqual("PGDMP"u8));
        int intSize = archive[8];
        var version = (archive[5] << 16) | (archive[6] << 8) | archive[7];
        // magic 5 + version 3 + intSize + offSize + format = 11; then the compression: an int before 1.15, a byte after.
        int offset = 11 + (version >= 0x010f00 ? 1 : 1 + intSize);
        foreach (int value in new[] { sec, min, hour, mday, mon, year, isdst })
        {
            archive[offset] = (byte)(value < 0 ? 1 : 0);
            uint magnitude = (uint)Math.Abs(value);
            for (int i = 0; i < intSize; i++)
            {
                archive[offset + 1 + i] = (byte)(magnitude >> (8 * i));
            }

            offset += 1 + intSize;
        }
    }
}
