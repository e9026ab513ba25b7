using System.Globalization;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>
/// Turns the hand-written <c>HandBuilt/*.hex</c> files (whitespace-separated hex bytes, '#' comments)
/// into bytes.
/// </summary>
internal static class HandBuilt
{
    public const string Hexdump114 = "hexdump-1.14-custom.hex";
    public const string Blobs114Pipe = "blobs-1.14-custom-pipe.hex";
    public const string Table116Pipe = "table-1.16-custom-pipe.hex";
    public const string ZlibStored115Pipe = "zlib-stored-1.15-custom-pipe.hex";

    public static readonly string[] All = [Hexdump114, Blobs114Pipe, Table116Pipe, ZlibStored115Pipe];

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "HandBuilt", name);

    public static byte[] Load(string name) => Parse(File.ReadAllText(PathOf(name)));

    public static byte[] Parse(string text)
    {
        var bytes = new List<byte>();
        foreach (var rawLine in text.Split('\n'))
        {
            var hash = rawLine.IndexOf('#', StringComparison.Ordinal);
            var line = hash >= 0 ? rawLine[..hash] : rawLine;
            foreach (var token in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Length != 2)
                {
                    throw new FormatException($"bad hex byte '{token}' in line: {rawLine}");
                }

                bytes.Add(byte.Parse(token, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }

        return [.. bytes];
    }

    /// <summary>Writes the bytes of a hand-built file to <paramref name="directory"/>; returns the path.</summary>
    public static string Materialize(string name, string directory)
    {
        var path = Path.Combine(directory, Path.ChangeExtension(name, ".dump"));
        File.WriteAllBytes(path, Load(name));
        return path;
    }

    /// <summary>The archives the hand-built files describe, as <see cref="SpecArchive"/> models.</summary>
    public static SpecArchive Model(string name)
    {
        var rows = "1\talpha\tplain\n2\tbe\\tta\tline1\\nline2\n\\.\n\n\n"u8.ToArray();
        var a = new SpecArchive
        {
            Version = SpecVersion.V1_14, Format = SpecFormat.Custom, Compression = SpecCompression.None,
            DatabaseName = "fmtdb",
        };
        SpecEntry TableData(byte[] data, int relkind) => new()
        {
            DumpId = 3350, HadDumper = true, TableOid = "0", Oid = "16387", Tag = "t1", Desc = "TABLE DATA",
            Section = SpecSection.Data, Defn = null, DropStmt = "",
            CopyStmt = "COPY public.t1 (id, name, note) FROM stdin;\n", Namespace = "public", Tablespace = "",
            TableAm = null, RelKind = relkind, Owner = "postgres", Dependencies = [216], Data = data,
        };

        switch (name)
        {
            case Hexdump114:
                a.Entries.Add(new SpecEntry
                {
                    DumpId = 3357, Tag = "ENCODING", Desc = "ENCODING", Section = SpecSection.PreData,
                    Defn = "SET client_encoding = 'UTF8';\n", Owner = null,
                });
                a.Entries.Add(TableData(rows, 0));
                break;
            case Blobs114Pipe:
                a.Entries.Add(new SpecEntry
                {
                    DumpId = 3353, TableOid = "2613", Oid = "16402", Tag = "16402", Desc = "BLOB",
                    Section = SpecSection.PreData, Defn = "SELECT pg_catalog.lo_create('16402');\n",
                    DropStmt = "SELECT pg_catalog.lo_unlink('16402');\n", Owner = "postgres",
                });
                a.Entries.Add(new SpecEntry
                {
                    DumpId = 3354, HadDumper = true, Tag = "BLOBS", Desc = "BLOBS", Section = SpecSection.Data,
                    Defn = "", DropStmt = "", Owner = null,
                    LargeObjects = [new SpecLargeObject(16402, "hello large object"u8.ToArray())],
                });
                break;
            case Table116Pipe:
                a.Version = SpecVersion.V1_16;
                a.ServerVersion = a.DumpVersion = "18.3";
                a.Entries.Add(new SpecEntry
                {
                    DumpId = 216, TableOid = "1259", Oid = "16387", Tag = "t1", Desc = "TABLE",
                    Section = SpecSection.PreData,
                    Defn = "CREATE TABLE public.t1 (id integer, name text, note text);\n", DropStmt = "",
                    Namespace = "public", Tablespace = "", TableAm = "heap", RelKind = 'r', Owner = "postgres",
                });
                a.Entries.Add(TableData(rows, 0));
                break;
            case ZlibStored115Pipe:
                a.Version = SpecVersion.V1_15;
                a.Compression = SpecCompression.Gzip;
                a.ServerVersion = a.DumpVersion = "16.9";
                var e = TableData("1\talpha\tplain\n\\.\n\n\n"u8.ToArray(), 0);
                e.Dependencies = [];
                a.Entries.Add(e);
                break;
            default:
                throw new ArgumentException(name, nameof(name));
        }

        return a;
    }
}
