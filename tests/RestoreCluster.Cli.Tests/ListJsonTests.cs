using System.Globalization;
using System.Text;
using System.Text.Json;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// <c>restorecluster list --json</c> (docs/list-json.md): every field of every entry agrees with the archive
/// read in-process, the header agrees, and the entries pg_restore -l prints are exactly those marked listed.
/// </summary>
public sealed class ListJsonTests
{
    public static TheoryData<string> AllArchives() => ListTools.AllArchives();

    [Theory]
    [MemberData(nameof(AllArchives))]
    public async Task EveryEntryFieldEqualsWhatTheReaderGivesInProcess(string name)
    {
        var archive = (await FixtureArchives.GetAsync())[name];
        using var json = await ListJsonAsync(archive.Path);
        using var pg = PgArchive.Open(archive.Path);

        var entries = json.RootElement.GetProperty("entries");
        Assert.Equal(pg.Entries.Count, entries.GetArrayLength());
        int i = 0;
        foreach (var j in entries.EnumerateArray())
        {
            var e = pg.Entries[i];
            string at = $"{name} entry #{i} (dump ID {e.DumpId})";
            Assert.True(i == j.GetProperty("index").GetInt32(), at);
            Assert.True(e.DumpId == j.GetProperty("dumpId").GetInt32(), at);
            Assert.True(e.HadDumper == j.GetProperty("hadDumper").GetBoolean(), at);
            Assert.True(e.TableOid == j.GetProperty("tableOid").GetString(), at);
            Assert.True(e.Oid == j.GetProperty("oid").GetString(), at);
            Assert.True(e.Tag == j.GetProperty("tag").GetString(), at);
            Assert.True(e.Desc == j.GetProperty("desc").GetString(), at);
            Assert.True((int)e.Section == j.GetProperty("section").GetInt32(), at);
            Assert.Equal(SectionName(e.Section), j.GetProperty("sectionName").GetString());
            AssertNullable(e.Defn, j, "defn", at);
            AssertNullable(e.DropStmt, j, "dropStmt", at);
            AssertNullable(e.CopyStmt, j, "copyStmt", at);
            AssertNullable(e.Namespace, j, "namespace", at);
            AssertNullable(e.Tablespace, j, "tablespace", at);
            AssertNullable(e.TableAm, j, "tableAm", at);
            Assert.True(e.RelKind == j.GetProperty("relKind").GetInt32(), at);
            AssertNullable(e.Owner, j, "owner", at);
            AssertNullable(e.WithOids, j, "withOids", at);
            Assert.Equal(e.Dependencies, j.GetProperty("dependencies").EnumerateArray().Select(d => d.GetInt32()).ToList());
            AssertNullable(e.FileName, j, "fileName", at);
            Assert.Equal(OffsetStateName(e.OffsetState), j.GetProperty("dataOffsetState").GetString());
            Assert.True(e.DataOffset == j.GetProperty("dataOffset").GetInt64(), at);
            Assert.True(e.DataLength == j.GetProperty("dataLength").GetInt64(), at);
            AssertRaw(e, j, at);
            i++;
        }
    }

    [Theory]
    [MemberData(nameof(AllArchives))]
    public async Task HeaderFieldsEqualWhatTheReaderGivesInProcess(string name)
    {
        var archive = (await FixtureArchives.GetAsync())[name];
        using var json = await ListJsonAsync(archive.Path);
        using var pg = PgArchive.Open(archive.Path);
        var h = pg.Header;

        var a = json.RootElement.GetProperty("archive");
        Assert.Equal(1, json.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(archive.Path, a.GetProperty("path").GetString());
        Assert.Equal(archive.FormatLetter switch { 'c' => "custom", 'd' => "directory", _ => "tar" }, a.GetProperty("format").GetString());
        Assert.Equal(h.FormatByte, a.GetProperty("formatByte").GetInt32());
        Assert.Equal($"{h.Version.Major}.{h.Version.Minor}.{h.Version.Revision}", a.GetProperty("version").GetString());
        Assert.Equal("1.14.0", a.GetProperty("version").GetString());
        Assert.Equal(4, a.GetProperty("intSize").GetInt32());
        Assert.Equal(8, a.GetProperty("offSize").GetInt32());
        Assert.Equal(archive.IsCompressed ? "gzip" : "none", a.GetProperty("compression").GetString());
        Assert.Equal(h.CompressionLevel, a.GetProperty("compressionLevel").GetInt32());
        var c = a.GetProperty("created");
        Assert.Equal(
            new[] { h.Created.Second, h.Created.Minute, h.Created.Hour, h.Created.Day, h.Created.Month, h.Created.Year, h.Created.IsDst },
            new[] { "sec", "min", "hour", "mday", "mon", "year", "isdst" }.Select(k => c.GetProperty(k).GetInt32()).ToArray());
        Assert.Equal(ArchiveTimestamp.Format(h.Created), a.GetProperty("createdText").GetString());
        Assert.Equal(archive.SourceDatabase, a.GetProperty("databaseName").GetString());
        Assert.Equal(h.ServerVersion, a.GetProperty("serverVersion").GetString());
        Assert.Equal(h.DumpVersion, a.GetProperty("dumpVersion").GetString());
        Assert.StartsWith("15.", h.DumpVersion);
        Assert.Equal(archive.Fixture == "latin1" ? "LATIN1" : "UTF8", a.GetProperty("encoding").GetString());
        Assert.Equal(pg.StandardConformingStrings, a.GetProperty("standardConformingStrings").GetBoolean());
        Assert.True(a.GetProperty("standardConformingStrings").GetBoolean());
        Assert.True(a.GetProperty("seekable").GetBoolean());
        Assert.Equal(pg.Entries.Count, a.GetProperty("tocEntries").GetInt32());
    }

    [Theory]
    [MemberData(nameof(AllArchives))]
    public async Task EveryPgRestoreListLineAgreesWithTheJsonAndListedMarksExactlyThoseEntries(string name)
    {
        var archive = (await FixtureArchives.GetAsync())[name];
        using var json = await ListJsonAsync(archive.Path, "Europe/Berlin");
        var pgList = await ListTools.PgRestoreAsync(["-l", archive.Path], "Europe/Berlin");
        Assert.True(pgList.Succeeded, pgList.Describe());
        var encoding = DotnetEncoding(json.RootElement.GetProperty("archive").GetProperty("encoding").GetString()!);
        var byId = json.RootElement.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("dumpId").GetInt32());

        var lines = SplitLines(pgList.Stdout);
        string created = Encoding.UTF8.GetString(lines[1]);
        Assert.Equal($"; Archive created at {json.RootElement.GetProperty("archive").GetProperty("createdText").GetString()}", created);
        var printed = new List<int>();
        foreach (var line in lines.Where(l => l.Length > 0 && l[0] != (byte)';'))
        {
            int semi = Array.IndexOf(line, (byte)';');
            int dumpId = int.Parse(Encoding.ASCII.GetString(line, 0, semi), CultureInfo.InvariantCulture);
            Assert.True(byId.TryGetValue(dumpId, out var entry), $"{name}: pg_restore lists dump ID {dumpId}, the JSON has no such entry");
            var rest = line[(semi + 2)..];

            var rebuilt = Rebuild(entry, encoding);

            Assert.True(rest.AsSpan().SequenceEqual(rebuilt), $"{name} dump ID {dumpId}:\npg_restore: {Encoding.Latin1.GetString(rest)}\nfrom JSON:  {Encoding.Latin1.GetString(rebuilt)}");
            printed.Add(dumpId);
        }

        var listed = json.RootElement.GetProperty("entries").EnumerateArray()
            .Where(e => e.GetProperty("listed").GetBoolean())
            .Select(e => e.GetProperty("dumpId").GetInt32())
            .ToList();
        Assert.NotEmpty(printed);
        Assert.Equal(printed, listed);
    }

    [Fact]
    public async Task Latin1ArchiveTextIsDecodedFromLatin1AndNeedsNoRawBytes()
    {
        var archive = (await FixtureArchives.GetAsync())["latin1.custom"];
        using var json = await ListJsonAsync(archive.Path);

        var entries = json.RootElement.GetProperty("entries").EnumerateArray().ToList();

        Assert.Contains(entries, e => e.GetProperty("tag").GetString() == "tâble" && e.GetProperty("namespace").GetString() == "schéma");
        Assert.Contains(entries, e => e.GetProperty("desc").GetString() == "SCHEMA" && e.GetProperty("tag").GetString() == "schéma");
        Assert.DoesNotContain(entries, e => e.TryGetProperty("raw", out _));
    }

    [Fact]
    public async Task TagBytesThatDoNotDecodeComeAsBase64InRawAndStillMatchPgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var bytes = await File.ReadAllBytesAsync(fixtures["rich.custom"].Path);
        // Every stored string "orders" (the TABLE and TABLE DATA tags) becomes "o\xffders": not UTF-8.
        byte[] stored = [0, 6, 0, 0, 0, .. "orders"u8];
        int patched = 0;
        for (int from = 0, at; (at = bytes.AsSpan(from).IndexOf(stored)) >= 0; from += at + stored.Length)
        {
            bytes[from + at + 6] = 0xff;
            patched++;
        }

        Assert.True(patched >= 2, $"patched {patched} tags");
        var path = Path.Combine(fixtures.Directory, $"undecodable-{Guid.NewGuid():N}.dump");
        await File.WriteAllBytesAsync(path, bytes);
        try
        {
            using var json = await ListJsonAsync(path);
            var pgList = await ListTools.PgRestoreAsync(["-l", path]);
            var cliList = await ListTools.CliAsync(["list", path]);

            var odd = json.RootElement.GetProperty("entries").EnumerateArray().Where(e => e.TryGetProperty("raw", out _)).ToList();
            Assert.Equal(patched, odd.Count);
            foreach (var e in odd)
            {
                var raw = e.GetProperty("raw");
                Assert.Equal(["tag"], raw.EnumerateObject().Select(p => p.Name));
                Assert.Equal(new byte[] { (byte)'o', 0xff, (byte)'d', (byte)'e', (byte)'r', (byte)'s' }, raw.GetProperty("tag").GetBytesFromBase64());
                Assert.Equal("o\u00ffders", e.GetProperty("tag").GetString());
                var line = $"{e.GetProperty("dumpId").GetInt32()}; ";
                Assert.Contains(Encoding.Latin1.GetString([.. Encoding.ASCII.GetBytes(line), .. Rebuild(e, Encoding.UTF8)]) + "\n", Encoding.Latin1.GetString(pgList.Stdout));
            }

            ListTools.AssertSameOutput(pgList, cliList, "undecodable tag");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task JsonFromStandardInputDescribesTheSameEntriesAsFromTheFile()
    {
        var archive = (await FixtureArchives.GetAsync())["nasty.piped"];
        var bytes = await File.ReadAllBytesAsync(archive.Path);
        using var fromFile = await ListJsonAsync(archive.Path);
        var result = await ListTools.CliAsync(["list", "--json", "-"], stdin: bytes);
        Assert.True(result.Succeeded, result.Describe());
        using var fromStdin = JsonDocument.Parse(result.Stdout);

        var a = fromStdin.RootElement.GetProperty("archive");
        Assert.False(a.GetProperty("seekable").GetBoolean());
        Assert.Equal("standard input", a.GetProperty("path").GetString());
        var fileEntries = fromFile.RootElement.GetProperty("entries").EnumerateArray().ToList();
        var stdinEntries = fromStdin.RootElement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(fileEntries.Count, stdinEntries.Count);
        foreach (var (f, s) in fileEntries.Zip(stdinEntries))
        {
            foreach (var field in new[] { "dumpId", "tag", "desc", "defn", "namespace", "owner", "dataOffsetState", "listed" })
            {
                Assert.Equal(f.GetProperty(field).GetRawText(), s.GetProperty(field).GetRawText());
            }
        }
    }

    [Fact]
    public async Task PipedCustomArchiveReportsOffsetsNotSetAndDataLengthsFromTheBlocks()
    {
        var fixtures = await FixtureArchives.GetAsync();
        using var piped = await ListJsonAsync(fixtures["rich.piped"].Path);
        using var seekable = await ListJsonAsync(fixtures["rich.custom"].Path);

        var pipedData = piped.RootElement.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("hadDumper").GetBoolean()).ToList();
        var seekableData = seekable.RootElement.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("hadDumper").GetBoolean()).ToList();

        Assert.NotEmpty(pipedData);
        Assert.All(pipedData, e => Assert.Equal("notSet", e.GetProperty("dataOffsetState").GetString()));
        Assert.All(pipedData, e => Assert.Equal(0, e.GetProperty("dataOffset").GetInt64()));
        Assert.All(seekableData, e => Assert.Equal("set", e.GetProperty("dataOffsetState").GetString()));
        Assert.All(seekableData, e => Assert.True(e.GetProperty("dataOffset").GetInt64() > 0));
        Assert.Contains(seekableData, e => e.GetProperty("dataLength").GetInt64() > 0);
    }

    internal static async Task<JsonDocument> ListJsonAsync(string path, string timeZone = "UTC")
    {
        var result = await ListTools.CliAsync(["list", "--json", path], timeZone);
        Assert.True(result.Succeeded, result.Describe());
        Assert.Equal((byte)'\n', result.Stdout[^1]);
        return JsonDocument.Parse(result.Stdout);
    }

    /// <summary>"tableoid oid desc namespace tag owner" as pg_restore -l prints it (sanitize_line), from the JSON.</summary>
    private static byte[] Rebuild(JsonElement entry, Encoding encoding)
    {
        byte[]? Bytes(string field)
        {
            if (entry.TryGetProperty("raw", out var raw) && raw.TryGetProperty(field, out var b64))
            {
                return b64.GetBytesFromBase64();
            }

            var value = entry.GetProperty(field);
            return value.ValueKind == JsonValueKind.Null ? null : encoding.GetBytes(value.GetString()!);
        }

        static byte[] Sanitize(byte[]? b, bool hyphen) =>
            b is null || b.Length == 0
                ? (hyphen ? "-"u8.ToArray() : [])
                : b.Select(x => x is (byte)'\n' or (byte)'\r' ? (byte)' ' : x).ToArray();

        var output = new MemoryStream();
        output.Write(Encoding.ASCII.GetBytes($"{Oid(entry.GetProperty("tableOid").GetString()!)} {Oid(entry.GetProperty("oid").GetString()!)} "));
        output.Write(Bytes("desc") ?? []);
        output.WriteByte((byte)' ');
        output.Write(Sanitize(Bytes("namespace"), hyphen: true));
        output.WriteByte((byte)' ');
        output.Write(Sanitize(Bytes("tag"), hyphen: false));
        output.WriteByte((byte)' ');
        output.Write(Sanitize(Bytes("owner"), hyphen: false));
        return output.ToArray();
    }

    private static string Oid(string s) => uint.Parse(s, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);

    private static Encoding DotnetEncoding(string pgName) => pgName switch
    {
        "UTF8" => new UTF8Encoding(false),
        "LATIN1" => Encoding.Latin1,
        "SQL_ASCII" => Encoding.Latin1,
        _ => throw new InvalidOperationException($"test knows no encoding {pgName}"),
    };

    private static List<byte[]> SplitLines(byte[] text)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == (byte)'\n')
            {
                lines.Add(text[start..i]);
                start = i + 1;
            }
        }

        return lines;
    }

    private static void AssertNullable(string? expected, JsonElement entry, string field, string at)
    {
        var value = entry.GetProperty(field);
        if (expected is null)
        {
            Assert.True(value.ValueKind == JsonValueKind.Null, $"{at}: {field} should be null, is {value.GetRawText()}");
        }
        else
        {
            Assert.True(value.ValueKind == JsonValueKind.String && value.GetString() == expected, $"{at}: {field} should be {JsonSerializer.Serialize(expected)}, is {value.GetRawText()}");
        }
    }

    private static void AssertRaw(TocEntry e, JsonElement entry, string at)
    {
        if (e.UndecodableFields.Count == 0)
        {
            Assert.False(entry.TryGetProperty("raw", out _), $"{at}: raw present though every field decodes");
            return;
        }

        var raw = entry.GetProperty("raw");
        Assert.Equal(e.UndecodableFields.Count, raw.EnumerateObject().Count());
        foreach (var f in e.UndecodableFields)
        {
            Assert.Equal(e.GetRaw(f), raw.GetProperty(JsonTocWriter.JsonName(f)).GetBytesFromBase64());
        }
    }

    private static string SectionName(ArchiveSection s) => s switch
    {
        ArchiveSection.None => "NONE",
        ArchiveSection.PreData => "PRE_DATA",
        ArchiveSection.Data => "DATA",
        _ => "POST_DATA",
    };

    private static string OffsetStateName(DataOffsetState s) => s switch
    {
        DataOffsetState.PositionNotSet => "notSet",
        DataOffsetState.PositionSet => "set",
        DataOffsetState.NoData => "noData",
        _ => "notApplicable",
    };
}
