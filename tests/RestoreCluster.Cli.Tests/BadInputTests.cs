using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// The real CLI, run as a child process on inputs that are not (whole, valid) archives: it must exit 1 with
/// exactly one line <c>restorecluster: error: ...</c> naming the input (and, where it applies, the byte
/// offset or the entry), never a stack trace, and never hang.
/// </summary>
public sealed partial class BadInputTests : IDisposable
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A location in the message: a byte offset, a byte count or the entry.</summary>
    private const string Where = @"byte \d+|\d+ bytes|dump ID \d+";

    private readonly string _dir = Directory.CreateTempSubdirectory("restorecluster-badinput-").FullName;

    public void Dispose()
    {
        foreach (var d in Directory.EnumerateDirectories(_dir, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(d, FileAttributes.Normal);
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task FilesThatAreNotArchivesFailWithOneLineNamingTheFile()
    {
        var random = new byte[4096];
        new Random(42).NextBytes(random);
        var sqlDump = "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.18\n\nSET statement_timeout = 0;\n"u8.ToArray();
        var files = new (string Name, byte[] Bytes, string? Expect)[]
        {
            ("random.bin", random, null),
            ("notes.txt", "hello\nthis is not an archive\n"u8.ToArray(), null),
            ("plain.sql", sqlDump, "text format dump"),
            ("cluster.sql", "--\n-- PostgreSQL database cluster dump\n--\n\nSET default_transaction_read_only = off;\n"u8.ToArray(), "text format dump"),
            ("three.bin", "PGD"u8.ToArray(), null),
            ("magic-only.dump", "PGDMP"u8.ToArray(), null),
            ("big-zero.bin", new byte[100_000], null),
        };
        var cases = new List<Case>();
        foreach (var (name, bytes, expect) in files)
        {
            var path = Write(name, bytes);
            cases.Add(new Case(name + " list", ["list", path], path, Expect: expect));
            cases.Add(new Case(name + " restore", ["restore", "-f", "/dev/null", path], path, Expect: expect));
        }

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task EmptyFilesAndEmptyStandardInputFailWithOneLine()
    {
        var empty = Write("empty.dump", []);
        var emptyDir = Path.Combine(_dir, "empty-dir");
        Directory.CreateDirectory(emptyDir);

        await RunAllAsync(
        [
            new Case("empty file list", ["list", empty], empty, Expect: "empty"),
            new Case("empty file restore", ["restore", "-f", "/dev/null", empty], empty, Expect: "empty"),
            new Case("empty stdin list", ["list"], "standard input", Stdin: [], Expect: "empty"),
            new Case("empty stdin list -", ["list", "-"], "standard input", Stdin: [], Expect: "empty"),
            new Case("empty stdin restore", ["restore", "-f", "/dev/null"], "standard input", Stdin: [], Expect: "empty"),
            new Case("empty stdin list --json", ["list", "--json", "-"], "standard input", Stdin: [], Expect: "empty"),
            new Case("directory without toc.dat", ["list", emptyDir], emptyDir, Expect: "toc.dat"),
        ]);
    }

    [Fact]
    public async Task ANonexistentPathFailsWithOneLineNamingIt()
    {
        var missing = Path.Combine(_dir, "no such dir", "missing.dump");

        await RunAllAsync(
        [
            new Case("list", ["list", missing], missing, Expect: "No such file or directory"),
            new Case("list --json", ["list", "--json", missing], missing, Expect: "No such file or directory"),
            new Case("restore -f", ["restore", "-f", "/dev/null", missing], missing, Expect: "No such file or directory"),
            new Case("restore -l", ["restore", "-l", missing], missing, Expect: "No such file or directory"),
        ]);
    }

    [Fact]
    public async Task ALogFileThatCannotBeOpenedFailsWithOneLineNamingIt()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var log = Path.Combine(_dir, "no such dir", "restore.log");

        await RunAllAsync(
        [
            new Case("restore -f --log-file", ["restore", "-f", "/dev/null", "--log-file", log, fixtures["rich.custom"].Path], log, Expect: "could not open log file"),
            new Case("restore -d --log-file", ["restore", "-d", "unused", "--log-file", _dir, fixtures["rich.custom"].Path], _dir, Expect: "could not open log file"),
        ]);
    }

    [Fact]
    public async Task ACustomArchiveTruncatedInsideItsHeaderOrTocFailsNamingTheByte()
    {
        var archive = (await FixtureArchives.GetAsync())["rich.custom"];
        var bytes = await File.ReadAllBytesAsync(archive.Path);
        long dataStart = DataStart(archive.Path);

        var cases = Sample(dataStart).Select(cut =>
        {
            var path = Write($"custom-cut-{cut}.dump", bytes[..(int)cut]);
            return new Case($"custom cut at {cut}", ["list", path], path, Where: cut >= 12 ? Where : null);
        });

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task ADirectoryArchiveWithATruncatedTocDatFailsNamingTheByte()
    {
        var archive = (await FixtureArchives.GetAsync())["rich.directory"];
        var toc = await File.ReadAllBytesAsync(Path.Combine(archive.Path, "toc.dat"));

        var cases = Sample(toc.Length).Select(cut =>
        {
            var dir = Path.Combine(_dir, $"dir-cut-{cut}");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "toc.dat"), toc[..(int)cut]);
            return new Case($"toc.dat cut at {cut}", ["list", dir], dir, Where: cut >= 12 ? Where : null);
        });

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task ATarArchiveTruncatedInsideItsTocMemberFailsNamingTheByte()
    {
        var archive = (await FixtureArchives.GetAsync())["rich.tar"];
        var bytes = await File.ReadAllBytesAsync(archive.Path);
        long tocSize = TarMemberSize(bytes, 0);
        Assert.Equal("toc.dat", Encoding.ASCII.GetString(bytes, 0, 7));

        // Cuts inside the first member header (not a tar file any more) and inside toc.dat's data.
        var cuts = new long[] { 100, 511 }.Concat(Sample(tocSize).Select(c => 512 + c)).Append(512 + RoundUp(tocSize) - 1);
        var cases = cuts.Select(cut =>
        {
            var path = Write($"tar-cut-{cut}.tar", bytes[..(int)cut]);
            return new Case($"tar cut at {cut}", ["list", path], path, Where: cut >= 512 ? Where : null);
        });

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task ArchivesTruncatedInsideTheirDataFailWhenRestoredNamingTheByteOrEntry()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var custom = await File.ReadAllBytesAsync(fixtures["rich.custom"].Path);
        var customZ0 = await File.ReadAllBytesAsync(fixtures["rich.custom-z0"].Path);
        var piped = await File.ReadAllBytesAsync(fixtures["rich.piped"].Path);
        var tar = await File.ReadAllBytesAsync(fixtures["rich.tar"].Path);
        long tarDataStart = 512 + RoundUp(TarMemberSize(tar, 0));
        var cases = new List<Case>();

        void Cuts(string label, byte[] bytes, long from, long to, string ext)
        {
            foreach (long cut in Enumerable.Range(1, 6).Select(i => from + ((to - from) * i / 7)))
            {
                var path = Write($"{label}-data-cut-{cut}.{ext}", bytes[..(int)cut]);
                cases.Add(new Case($"{label} data cut at {cut}", ["restore", "-f", "/dev/null", path], path, Where: Where));
            }
        }

        Cuts("custom", custom, DataStart(fixtures["rich.custom"].Path), custom.Length, "dump");
        Cuts("custom-z0", customZ0, DataStart(fixtures["rich.custom-z0"].Path), customZ0.Length, "dump");
        Cuts("piped", piped, DataStart(fixtures["rich.custom"].Path), piped.Length, "dump");
        // pg_restore never reads restore.sql, the last member: cut before it.
        Cuts("tar", tar, tarDataStart, TarMemberOffset(tar, "restore.sql"), "tar");

        var dir = CopyDirectory(fixtures["rich.directory"].Path, "dir-data-cut");
        var largest = new DirectoryInfo(dir).EnumerateFiles("*.dat.gz").MaxBy(f => f.Length)!;
        var gz = await File.ReadAllBytesAsync(largest.FullName);
        await File.WriteAllBytesAsync(largest.FullName, gz[..(gz.Length / 2)]);
        cases.Add(new Case("directory gzip file cut in half", ["restore", "-f", "/dev/null", dir], dir, Where: Where));

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task ATarArchiveCutInHalfFailsWithinTheTimeoutInsteadOfHanging()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var cases = new List<Case>();
        foreach (var name in new[] { "rich.tar", "nasty.tar" })
        {
            var bytes = await File.ReadAllBytesAsync(fixtures[name].Path);
            var path = Write($"{name}-half.tar", bytes[..(bytes.Length / 2)]);
            cases.Add(new Case($"{name} cut in half, restore", ["restore", "-f", "/dev/null", path], path, Where: Where));
            cases.Add(new Case($"{name} cut in half, restore from stdin", ["restore", "-f", "/dev/null", "-"], "standard input", Stdin: bytes[..(bytes.Length / 2)], Where: Where));
        }

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task ATarArchiveCutInsideRestoreSqlStillRestoresAsPgRestoreDoes()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var tar = await File.ReadAllBytesAsync(fixtures["rich.tar"].Path);
        long restoreSql = TarMemberOffset(tar, "restore.sql");
        var path = Write("tar-cut-in-restore-sql.tar", tar[..(int)(restoreSql + 512 + 100)]);

        var expected = await ListTools.PgRestoreAsync(["-f", "/dev/null", path]);
        var actual = await CliRunner.RunAsync(["restore", "-f", "/dev/null", path], ListTools.Env(), [], CaseTimeout);

        Assert.True(expected.Succeeded, expected.Describe());
        Assert.True(actual.Succeeded, actual.Describe());
        Assert.Equal("", actual.Stderr);
    }

    [Fact]
    public async Task UnsupportedArchiveVersionsAreRejectedNamingTheVersionAndFile()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var custom = await File.ReadAllBytesAsync(fixtures["rich.custom"].Path);
        var toc = await File.ReadAllBytesAsync(Path.Combine(fixtures["rich.directory"].Path, "toc.dat"));
        var tar = await File.ReadAllBytesAsync(fixtures["rich.tar"].Path);
        var cases = new List<Case>();
        foreach (var (minor, text) in new[] { ((byte)17, "1.17"), ((byte)11, "1.11"), ((byte)200, "1.200") })
        {
            var path = Write($"v{text}.dump", Patched(custom, 5, 1, minor, 0));
            cases.Add(new Case($"custom {text} list", ["list", path], path, Expect: text));
            cases.Add(new Case($"custom {text} restore", ["restore", "-f", "/dev/null", path], path, Expect: text));

            var dir = Path.Combine(_dir, $"dir-v{text}");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "toc.dat"), Patched(toc, 5, 1, minor, 0));
            cases.Add(new Case($"directory {text}", ["list", dir], dir, Expect: text));

            // toc.dat's bytes are tar member data: the member header's checksum does not cover them.
            var tarPath = Write($"v{text}.tar", Patched(tar, 512 + 5, 1, minor, 0));
            cases.Add(new Case($"tar {text}", ["list", tarPath], tarPath, Expect: text));
        }

        var major2 = Write("v2.14.dump", Patched(custom, 5, 2, 14, 0));
        cases.Add(new Case("custom 2.14", ["list", major2], major2, Expect: "2.14"));

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task AnUnknownFormatByteIsRejectedNamingTheFile()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var custom = await File.ReadAllBytesAsync(fixtures["rich.custom"].Path);
        var toc = await File.ReadAllBytesAsync(Path.Combine(fixtures["rich.directory"].Path, "toc.dat"));
        var cases = new List<Case>();
        foreach (byte format in new byte[] { 0, 2, 4, 7, 0xff })
        {
            var path = Write($"format-{format}.dump", Patched(custom, 10, format));
            cases.Add(new Case($"custom format byte {format}", ["list", path], path, Expect: $"format byte {format}"));
            var dir = Path.Combine(_dir, $"dir-format-{format}");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "toc.dat"), Patched(toc, 10, format));
            cases.Add(new Case($"directory format byte {format}", ["list", dir], dir, Expect: $"format byte {format}"));
        }

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task ADirectoryArchiveMissingADataFileFailsNamingTheFileAndEntry()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var cases = new List<Case>();
        foreach (var name in new[] { "rich.directory", "rich.directory-z0" })
        {
            var dir = CopyDirectory(fixtures[name].Path, $"{name}-missing");
            var victim = new DirectoryInfo(dir).EnumerateFiles("*.dat*")
                .Where(f => char.IsAsciiDigit(f.Name[0]))
                .MaxBy(f => f.Length)!;
            string dumpId = victim.Name.Split('.')[0];
            File.Delete(victim.FullName);
            cases.Add(new Case($"{name} without {victim.Name}", ["restore", "-f", "/dev/null", dir], dir, Where: $"dump ID {dumpId}", Expect: $"{dumpId}.dat"));

            var blobDir = CopyDirectory(fixtures[name].Path, $"{name}-missing-blob");
            var blob = new DirectoryInfo(blobDir).EnumerateFiles("blob_*.dat*").First();
            File.Delete(blob.FullName);
            cases.Add(new Case($"{name} without {blob.Name}", ["restore", "-f", "/dev/null", blobDir], blobDir, Expect: Path.GetFileNameWithoutExtension(blob.Name).Split('.')[0]));
        }

        await RunAllAsync(cases);
    }

    [Fact]
    public async Task CorruptedCompressedDataFailsNamingTheEntry()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var cases = new List<Case>();

        // Inside the deflate data of the largest gzip file of a directory archive, and in its gzip trailer (CRC).
        var dir = CopyDirectory(fixtures["rich.directory"].Path, "dir-corrupt");
        var largest = new DirectoryInfo(dir).EnumerateFiles("*.dat.gz").MaxBy(f => f.Length)!;
        var gz = await File.ReadAllBytesAsync(largest.FullName);
        await File.WriteAllBytesAsync(largest.FullName, Flipped(gz, gz.Length / 2, 16));
        string gzId = largest.Name.Split('.')[0];
        cases.Add(new Case("gzip file, deflate data flipped", ["restore", "-f", "/dev/null", dir], dir, Where: $"dump ID {gzId}"));

        var crcDir = CopyDirectory(fixtures["rich.directory"].Path, "dir-corrupt-crc");
        var crcFile = Path.Combine(crcDir, largest.Name);
        await File.WriteAllBytesAsync(crcFile, Flipped(gz, gz.Length - 8, 4));
        cases.Add(new Case("gzip file, CRC flipped", ["restore", "-f", "/dev/null", crcDir], crcDir, Where: $"dump ID {gzId}"));

        // Inside a zlib block of the custom archive: the first chunk of its largest data entry.
        var customPath = fixtures["rich.custom"].Path;
        var custom = await File.ReadAllBytesAsync(customPath);
        TocEntry biggest;
        using (var pg = PgArchive.Open(customPath))
        {
            biggest = pg.Entries.Where(e => e.Desc == "TABLE DATA").MaxBy(e => e.DataLength)!;
        }

        // Block: type byte, dump ID int, then chunks (int length, bytes); skip the 2-byte zlib header.
        long firstChunk = biggest.DataOffset + 1 + 5 + 5;
        var zlib = Write("custom-zlib-corrupt.dump", Flipped(custom, (int)firstChunk + 40, 16));
        cases.Add(new Case("custom zlib block flipped", ["restore", "-f", "/dev/null", zlib], zlib, Where: $"dump ID {biggest.DumpId}"));

        var zlibStdin = Flipped(await File.ReadAllBytesAsync(fixtures["rich.piped"].Path), (int)firstChunk + 40, 16);
        cases.Add(new Case("piped zlib block flipped, from stdin", ["restore", "-f", "/dev/null"], "standard input", Stdin: zlibStdin, Where: Where));

        // The block's dump ID no longer matches the TOC entry the offset points at.
        var wrongId = Write("custom-wrong-block-id.dump", Patched(custom, (int)biggest.DataOffset + 1, 0, 0x7f, 0x7f, 0, 0));
        cases.Add(new Case("custom block with a wrong dump ID", ["restore", "-f", "/dev/null", wrongId], wrongId, Where: Where));

        // A block type byte that is neither data nor blobs.
        var badType = Write("custom-bad-block-type.dump", Patched(custom, (int)biggest.DataOffset, 9));
        cases.Add(new Case("custom block with an unknown type", ["restore", "-f", "/dev/null", badType], badType, Where: Where));

        await RunAllAsync(cases);
    }

    private sealed record Case(string Label, string[] Args, string Names, byte[]? Stdin = null, string? Where = null, string? Expect = null);

    /// <summary>Runs every case, four child processes at a time, and reports every case that misbehaved.</summary>
    private static async Task RunAllAsync(IEnumerable<Case> cases)
    {
        var all = cases.ToList();
        Assert.NotEmpty(all);
        var problems = new List<string>();
        foreach (var batch in all.Chunk(4))
        {
            var results = await Task.WhenAll(batch.Select(c => CliRunner.RunAsync(c.Args, ListTools.Env(), c.Stdin ?? [], CaseTimeout)));
            foreach (var (c, r) in batch.Zip(results))
            {
                if (Check(c, r) is { } problem)
                {
                    problems.Add($"{c.Label}: {problem}\n  stderr: {r.Stderr.TrimEnd()}");
                }
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} of {all.Count} cases misbehaved:\n" + string.Join("\n", problems));
    }

    private static string? Check(Case c, ProcessResult r)
    {
        if (r.TimedOut)
        {
            return $"did not finish within {CaseTimeout.TotalSeconds} s";
        }

        if (r.ExitCode != 1)
        {
            return $"exit code {r.ExitCode}, expected 1";
        }

        var lines = r.Stderr.Split('\n');
        if (lines.Length != 2 || lines[1] != "")
        {
            return $"stderr has {lines.Length - 1} lines (or no final newline), expected exactly one";
        }

        string line = lines[0];
        if (!line.StartsWith("restorecluster: error: ", StringComparison.Ordinal))
        {
            return "stderr does not start with \"restorecluster: error: \"";
        }

        if (line.Contains("   at ", StringComparison.Ordinal) || StackFrame().IsMatch(r.Stderr))
        {
            return "stack trace in stderr";
        }

        if (!line.Contains(c.Names, StringComparison.Ordinal))
        {
            return $"the message does not name \"{c.Names}\"";
        }

        if (c.Where is { } where && !Regex.IsMatch(line, where))
        {
            return $"the message gives no location matching /{where}/";
        }

        if (c.Expect is { } expect && !line.Contains(expect, StringComparison.Ordinal))
        {
            return $"the message does not say \"{expect}\"";
        }

        return null;
    }

    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    /// <summary>About 40 cut points spread over [1, length), denser at the start, where the header is.</summary>
    private static IEnumerable<long> Sample(long length)
    {
        var cuts = new SortedSet<long> { 1, 4, 5, 6, 8, 9, 10, 11, 12, 13, 16, 30, 50, length - 1 };
        for (int i = 1; cuts.Count < 40; i++)
        {
            cuts.Add(length * i / 27);
        }

        return cuts.Where(c => c > 0 && c < length);
    }

    /// <summary>Where a seekable custom archive's first data block starts (the end of its TOC).</summary>
    private static long DataStart(string path)
    {
        using var archive = PgArchive.Open(path);
        return archive.Entries.Where(e => e.OffsetState == DataOffsetState.PositionSet).Min(e => e.DataOffset);
    }

    private static long TarMemberSize(byte[] tar, int headerAt) =>
        Convert.ToInt64(Encoding.ASCII.GetString(tar, headerAt + 124, 12).Trim('\0', ' '), 8);

    /// <summary>Where the header of the tar member <paramref name="name"/> starts.</summary>
    private static long TarMemberOffset(byte[] tar, string name)
    {
        for (int at = 0; at + 512 <= tar.Length && tar[at] != 0; at += 512 + (int)RoundUp(TarMemberSize(tar, at)))
        {
            if (Encoding.ASCII.GetString(tar, at, 100).TrimEnd('\0') == name)
            {
                return at;
            }
        }

        throw new InvalidOperationException($"no tar member {name}");
    }

    private static long RoundUp(long size) => (size + 511) / 512 * 512;

    private static byte[] Patched(byte[] bytes, int at, params byte[] values)
    {
        var copy = (byte[])bytes.Clone();
        values.CopyTo(copy, at);
        return copy;
    }

    private static byte[] Flipped(byte[] bytes, int at, int count)
    {
        var copy = (byte[])bytes.Clone();
        for (int i = at; i < at + count; i++)
        {
            copy[i] ^= 0x5a;
        }

        return copy;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string CopyDirectory(string from, string name)
    {
        var to = Path.Combine(_dir, name);
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        return to;
    }
}
