using System.Text;
using System.Text.RegularExpressions;
using RestoreCluster.Archive;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// The archives a real pg_dump 18.3 wrote (Fixtures/archives/pg18 in RestoreCluster.Testing, version 1.16, which pg_restore 15
/// refuses): the reader parses them, <c>list</c> prints a pg_restore-style listing, the data decompresses to
/// the source's rows and <c>restore -f -</c> writes a PG17+-style script with every row.
/// </summary>
public sealed partial class Pg18FixtureTests
{
    private static readonly string Pg18Directory = RepoPaths.Pg18ArchivesDirectory;

    private static readonly string[] ArchiveNames =
    [
        "small18.gzip.dump",
        "small18.none.dump",
        "small18.gzip.dir",
        "small18.none.dir",
        "small18.tar",
    ];

    public static TheoryData<string> Archives() => new(ArchiveNames);

    [Fact]
    public void EverySmallArchiveOfTheFixtureDirectoryIsTested()
    {
        // The stats18.* archives (pg_dump 18 --statistics) are the statistics fixtures, not part of this set.
        var onDisk = Directory.EnumerateFileSystemEntries(Pg18Directory)
            .Select(Path.GetFileName)
            .Where(n => n!.StartsWith("small18.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.Equal(ArchiveNames.Order(StringComparer.Ordinal), onDisk);
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void EveryEntryParsesAndTheHeaderIsVersion116(string name)
    {
        using var archive = PgArchive.Open(PathOf(name));

        Assert.Equal(ArchiveVersion.V1_16, archive.Header.Version);
        Assert.Equal(ExpectedFormat(name), archive.Header.Format);
        Assert.Equal(name.Contains("gzip", StringComparison.Ordinal) ? CompressionAlgorithm.Gzip : CompressionAlgorithm.None, archive.Header.Compression);
        Assert.Null(archive.Header.CompressionLevel);
        Assert.Equal("postgres", archive.Header.DatabaseName);
        Assert.Equal("18.3", archive.Header.DumpVersion);
        Assert.Equal("UTF8", archive.Encoding.Name);
        Assert.Equal(40, archive.Entries.Count);
        Assert.All(archive.Entries, e =>
        {
            Assert.True(e.DumpId > 0);
            Assert.NotEmpty(e.Desc);
            Assert.Empty(e.UndecodableFields);
            // pg_dump's section boundary objects (never written) may be depended on, so only the range is certain.
            Assert.All(e.Dependencies, d => Assert.True(d > 0 && d != e.DumpId));
        });
        Assert.Equal(archive.Entries.Count, archive.Entries.Select(e => e.DumpId).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void TheTocHoldsTheSourceSchemasObjects(string name)
    {
        using var archive = PgArchive.Open(PathOf(name));
        var objects = archive.Entries.Select(e => $"{e.Desc}|{e.Namespace ?? "-"}|{e.Tag}").ToHashSet();

        string[] expected =
        [
            "ENCODING|-|ENCODING", "STDSTRINGS|-|STDSTRINGS", "SEARCHPATH|-|SEARCHPATH", "DATABASE|-|postgres",
            "SCHEMA|-|app", "TYPE|app|mood", "FUNCTION|app|double_it(integer)",
            "TABLE|app|customers", "TABLE|app|orders", "TABLE|app|events", "TABLE|app|events_2024", "TABLE|app|events_2025",
            "VIEW|app|big_orders", "MATERIALIZED VIEW|app|order_totals", "MATERIALIZED VIEW DATA|app|order_totals",
            "COMMENT|app|TABLE customers", "SEQUENCE|app|customers_id_seq", "SEQUENCE|app|orders_id_seq",
            "SEQUENCE SET|app|customers_id_seq", "SEQUENCE SET|app|orders_id_seq",
            "TABLE DATA|app|customers", "TABLE DATA|app|orders", "TABLE DATA|app|events_2024", "TABLE DATA|app|events_2025",
            "TABLE ATTACH|app|events_2024", "TABLE ATTACH|app|events_2025",
            "CONSTRAINT|app|customers customers_pkey", "CONSTRAINT|app|orders orders_pkey",
            "FK CONSTRAINT|app|orders orders_customer_id_fkey", "INDEX|app|orders_customer_id_idx", "INDEX|app|events_at_idx",
            "BLOB METADATA|-|424242", "BLOBS|-|424242",
        ];
        Assert.All(expected, o => Assert.Contains(o, objects));
        Assert.DoesNotContain(archive.Entries, e => e.Desc == "TABLE DATA" && e.Tag == "events");

        // 1.16 stores relkind for tables: 'r' ordinary, 'p' partitioned.
        TocEntry Table(string tag) => archive.Entries.Single(e => e.Desc == "TABLE" && e.Tag == tag);
        Assert.Equal('r', Table("customers").RelKind);
        Assert.Equal('p', Table("events").RelKind);
        Assert.Equal("heap", Table("customers").TableAm);
        Assert.Equal("COMMENT ON TABLE app.customers IS 'customers — Kunden — 顧客';\n", archive.Entries.Single(e => e.Desc == "COMMENT" && e.Tag == "TABLE customers").Defn);
        Assert.Equal("424242\n", archive.Entries.Single(e => e.Desc == "BLOB METADATA").Defn);
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public async Task ListPrintsAPgRestoreStyleListingWithCompressionByName(string name)
    {
        var result = await ListTools.CliAsync(["list", PathOf(name)]);

        Assert.True(result.Succeeded, result.Describe());
        var lines = result.StdoutText.Split('\n');
        string compression = name.Contains("gzip", StringComparison.Ordinal) ? "gzip" : "none";
        string format = ExpectedFormat(name) switch { ArchiveFormat.Custom => "CUSTOM", ArchiveFormat.Directory => "DIRECTORY", _ => "TAR" };
        Assert.Equal(";", lines[0]);
        Assert.Matches(@"^; Archive created at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", lines[1]);
        Assert.Equal(
            [
                ";     dbname: postgres",
                ";     TOC Entries: 40",
                $";     Compression: {compression}",
                ";     Dump Version: 1.16-0",
                $";     Format: {format}",
                ";     Integer: 4 bytes",
                ";     Offset: 8 bytes",
                ";     Dumped from database version: 18.3",
                ";     Dumped by pg_dump version: 18.3",
                ";",
                ";",
                "; Selected TOC Entries:",
                ";",
            ],
            lines[2..15]);
        var entries = lines[15..^1];
        Assert.Equal("", lines[^1]);
        Assert.All(entries, l => Assert.Matches(EntryLine(), l));
        Assert.Contains("2615; 0 16394 TABLE DATA app customers postgres", entries);
        Assert.Contains("2621; 2613 424242 BLOB METADATA - 424242 postgres", entries);
        Assert.Contains("2622; 0 0 BLOBS - 424242 postgres", entries);
        Assert.DoesNotContain(entries, l => l.Contains(" ENCODING ", StringComparison.Ordinal) || l.Contains(" DATABASE ", StringComparison.Ordinal));
        // 40 entries less ENCODING, STDSTRINGS, SEARCHPATH, DATABASE and the database's COMMENT (pg_restore lists it only with -C).
        Assert.Equal(35, entries.Length);
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void EveryTableDataStreamDecompressesToTheSourceRows(string name)
    {
        using var archive = PgArchive.Open(PathOf(name));

        var rows = archive.Entries.Where(e => e.Desc == "TABLE DATA").ToDictionary(e => e.Tag, e => CountCopyRows(ReadAll(archive.OpenData(e))));

        Assert.Equal(2000, rows["customers"]);
        Assert.Equal(5000, rows["orders"]);
        Assert.Equal(3000, rows["events_2024"] + rows["events_2025"]);
        Assert.True(rows["events_2024"] > 0 && rows["events_2025"] > 0);
        Assert.Equal(4, rows.Count);
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void TheLargeObjectHoldsItsBytes(string name)
    {
        using var archive = PgArchive.Open(PathOf(name));
        var blobs = archive.Entries.Single(e => e.Desc == "BLOBS");

        var objects = archive.ReadLargeObjects(blobs).Select(lo => (lo.Oid, Bytes: ReadAll(lo.Data))).ToList();

        var only = Assert.Single(objects);
        Assert.Equal(424242u, only.Oid);
        Assert.Equal("hello large object"u8.ToArray(), only.Bytes);
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public async Task RestoreToStdoutWritesEveryRowTheLargeObjectTheSequencesAndTransactionTimeout(string name)
    {
        var result = await ListTools.CliAsync(["restore", "-f", "-", PathOf(name)]);

        Assert.True(result.Succeeded, result.Describe());
        string script = result.StdoutText;
        var rows = CopyRowsPerTable(script);
        Assert.Equal(2000, rows["app.customers"]);
        Assert.Equal(5000, rows["app.orders"]);
        Assert.Equal(3000, rows["app.events_2024"] + rows["app.events_2025"]);
        Assert.Contains("SET transaction_timeout = 0;\n", script);
        Assert.Contains("SELECT pg_catalog.lo_create('424242');\n", script);
        Assert.Contains("SELECT pg_catalog.lo_open('424242', 131072);\n", script);
        Assert.Contains($"SELECT pg_catalog.lowrite(0, '\\x{Convert.ToHexStringLower("hello large object"u8)}');\n", script);
        Assert.Contains("SELECT pg_catalog.setval('app.customers_id_seq', 2000, true);\n", script);
        Assert.Contains("SELECT pg_catalog.setval('app.orders_id_seq', 5000, true);\n", script);
        Assert.Contains("tab\\there, newline\\nthere, backslash \\\\ end 1\t", script);
        Assert.Contains("REFRESH MATERIALIZED VIEW app.order_totals;\n", script);
    }

    [Theory]
    [InlineData("small18.gzip.dump")]
    [InlineData("small18.none.dump")]
    [InlineData("small18.gzip.dir")]
    [InlineData("small18.none.dir")]
    public void DataLengthIsComputedForEveryTableData(string name)
    {
        using var archive = PgArchive.Open(PathOf(name));

        var data = archive.Entries.Where(e => e.Desc == "TABLE DATA").ToList();

        Assert.Equal(4, data.Count);
        Assert.All(data, e => Assert.True(e.DataLength > 0, $"{e}: DataLength {e.DataLength}"));
        var orders = data.Single(e => e.Tag == "orders");
        var customers = data.Single(e => e.Tag == "customers");
        Assert.True(orders.DataLength > data.Single(e => e.Tag == "events_2025").DataLength);
        if (name.EndsWith(".dir", StringComparison.Ordinal))
        {
            string suffix = name.Contains("gzip", StringComparison.Ordinal) ? ".gz" : "";
            Assert.Equal(new FileInfo(Path.Combine(PathOf(name), customers.FileName + suffix)).Length, customers.DataLength);
        }
    }

    [Theory]
    [InlineData("small18.gzip.dump")]
    [InlineData("small18.none.dump")]
    [InlineData("small18.tar")]
    public void ReadingThroughANonSeekableStreamYieldsIdenticalData(string name)
    {
        using var seekable = PgArchive.Open(PathOf(name));
        using var file = File.OpenRead(PathOf(name));
        using var piped = PgArchive.Open(new ForwardOnlyStream(file), "pipe");

        Assert.False(piped.IsSeekable);
        Assert.Equal(seekable.Entries.Select(e => e.ToString()), piped.Entries.Select(e => e.ToString()));
        int compared = 0;
        foreach (var (a, b) in seekable.Entries.Zip(piped.Entries).Where(p => p.First.HadDumper))
        {
            if (a.Desc == "BLOBS")
            {
                var fromFile = seekable.ReadLargeObjects(a).Select(lo => (lo.Oid, Convert.ToHexString(ReadAll(lo.Data)))).ToList();
                var fromPipe = piped.ReadLargeObjects(b).Select(lo => (lo.Oid, Convert.ToHexString(ReadAll(lo.Data)))).ToList();
                Assert.Equal(fromFile, fromPipe);
            }
            else
            {
                Assert.Equal(ReadAll(seekable.OpenData(a)), ReadAll(piped.OpenData(b)));
            }

            compared++;
        }

        // Four TABLE DATA entries and the BLOBS entry.
        Assert.Equal(5, compared);
    }

    private static string PathOf(string name) => Path.Combine(Pg18Directory, name);

    private static ArchiveFormat ExpectedFormat(string name) =>
        name.EndsWith(".dir", StringComparison.Ordinal) ? ArchiveFormat.Directory
        : name.EndsWith(".tar", StringComparison.Ordinal) ? ArchiveFormat.Tar
        : ArchiveFormat.Custom;

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
    }

    /// <summary>The rows of a COPY text stream: the lines before the <c>\.</c> terminator.</summary>
    private static int CountCopyRows(byte[] copyText)
    {
        var lines = Encoding.UTF8.GetString(copyText).Split('\n');
        int end = Array.IndexOf(lines, "\\.");
        Assert.True(end >= 0, "no \\. terminator in the data stream");
        Assert.All(lines[(end + 1)..], l => Assert.Equal("", l));
        return end;
    }

    /// <summary>For each <c>COPY t (...) FROM stdin;</c> in a script, the lines up to its <c>\.</c>.</summary>
    private static Dictionary<string, int> CopyRowsPerTable(string script)
    {
        var rows = new Dictionary<string, int>();
        string? table = null;
        foreach (var line in script.Split('\n'))
        {
            if (table is null)
            {
                var m = CopyStart().Match(line);
                if (m.Success)
                {
                    table = m.Groups[1].Value;
                    rows[table] = 0;
                }
            }
            else if (line == "\\.")
            {
                table = null;
            }
            else
            {
                rows[table]++;
            }
        }

        Assert.Null(table);
        return rows;
    }

    [GeneratedRegex(@"^COPY (\S+) \(.*\) FROM stdin;$")]
    private static partial Regex CopyStart();

    [GeneratedRegex(@"^\d+; \d+ \d+ \S.* \S+ \S+ \S*$")]
    private static partial Regex EntryLine();

    /// <summary>A read-only view of a stream that cannot seek and does not know its length, like a pipe.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 1000));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
