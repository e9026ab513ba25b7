using System.Globalization;
using System.Text;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>Ready-made realistic small archives for tests.</summary>
internal static class SpecArchives
{
    public const string Schema = "app";
    public const string Table = "items";
    public const uint LoHello = 16402;
    public const uint LoEmpty = 16403;
    public const uint LoHigh = 4294967040; // ≥ 2^31: stored as a negative int

    public static readonly string[] Rows =
    [
        "1\talpha\tplain",
        "2\tbe\\tta\tline1\\nline2",
        "3\tgrüße 日本語\t\\N",
        "4\tback\\\\slash\t",
    ];

    public static readonly byte[] HelloBytes = "hello large object"u8.ToArray();

    /// <summary>Binary content (all byte values) of the high-OID large object.</summary>
    public static readonly byte[] HighBytes = Enumerable.Range(0, 300).Select(i => (byte)(i * 7 % 256)).ToArray();

    /// <summary>The COPY text of the sample table: rows, then pg_dump's <c>\.\n\n\n</c> tail.</summary>
    public static byte[] CopyData(int extraRows = 0)
    {
        var sb = new StringBuilder();
        foreach (var r in Rows)
        {
            sb.Append(r).Append('\n');
        }

        for (var i = 0; i < extraRows; i++)
        {
            var n = 5 + i;
            sb.Append(CultureInfo.InvariantCulture, $"{n}\trow {n} {(n * 2654435761L) % 1000003}\tnote-{n % 17}\n");
        }

        sb.Append("\\.\n\n\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static int RowCount(int extraRows) => Rows.Length + extraRows;

    public static SpecArchive Sample(
        SpecVersion version,
        SpecFormat format,
        SpecCompression compression,
        int intSize = 4,
        int extraRows = 50,
        bool largeObjects = true)
    {
        var v16 = version.AtLeast(1, 16);
        var (server, dump) = version.Minor switch
        {
            12 => ("10.23", "10.23"),
            13 => ("11.22", "11.22"),
            14 => ("15.18 (Debian 15.18-0+deb12u1)", "15.18 (Debian 15.18-0+deb12u1)"),
            15 => ("16.9", "16.9"),
            _ => ("18.3", "17.5"),
        };
        var a = new SpecArchive
        {
            Version = version,
            Format = format,
            Compression = compression,
            IntSize = intSize,
            DatabaseName = "sampledb",
            ServerVersion = server,
            DumpVersion = dump,
        };

        a.Entries.Add(new SpecEntry
        {
            DumpId = 3357, Tag = "ENCODING", Desc = "ENCODING", Section = SpecSection.PreData,
            Defn = "SET client_encoding = 'UTF8';\n",
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 3358, Tag = "STDSTRINGS", Desc = "STDSTRINGS", Section = SpecSection.PreData,
            Defn = "SET standard_conforming_strings = 'on';\n",
        });
        if (version.AtLeast(1, 13))
        {
            a.Entries.Add(new SpecEntry
            {
                DumpId = 3359, Tag = "SEARCHPATH", Desc = "SEARCHPATH", Section = SpecSection.PreData,
                Defn = "SELECT pg_catalog.set_config('search_path', '', false);\n",
            });
        }

        a.Entries.Add(new SpecEntry
        {
            DumpId = 3360, TableOid = "1262", Oid = "16384", Tag = "sampledb", Desc = "DATABASE",
            Section = SpecSection.PreData,
            Defn = "CREATE DATABASE sampledb WITH TEMPLATE = template0 ENCODING = 'UTF8';\n",
            DropStmt = "DROP DATABASE sampledb;\n", Tablespace = "", Owner = "postgres",
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 6, TableOid = "2615", Oid = "16385", Tag = Schema, Desc = "SCHEMA", Section = SpecSection.PreData,
            Defn = "CREATE SCHEMA app;\n", DropStmt = "DROP SCHEMA app;\n", Owner = "postgres",
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 216, TableOid = "1259", Oid = "16387", Tag = Table, Desc = "TABLE", Section = SpecSection.PreData,
            Defn = "CREATE TABLE app.items (\n    id integer NOT NULL,\n    name text,\n    note text\n);\n",
            DropStmt = "DROP TABLE app.items;\n", Namespace = Schema, Tablespace = "",
            TableAm = "heap", RelKind = v16 ? 'r' : 0, Owner = "postgres", Dependencies = [6],
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 217, TableOid = "1259", Oid = "16386", Tag = "items_id_seq", Desc = "SEQUENCE",
            Section = SpecSection.PreData,
            Defn = "CREATE SEQUENCE app.items_id_seq\n    AS integer\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n",
            DropStmt = "DROP SEQUENCE app.items_id_seq;\n", Namespace = Schema, Owner = "postgres", Dependencies = [6],
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 3350, HadDumper = true, TableOid = "0", Oid = "16387", Tag = Table, Desc = "TABLE DATA",
            Section = SpecSection.Data, Defn = null, DropStmt = "",
            CopyStmt = "COPY app.items (id, name, note) FROM stdin;\n", Namespace = Schema, Tablespace = "",
            Owner = "postgres", Dependencies = [216], Data = CopyData(extraRows),
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 3351, Tag = "items_id_seq", Desc = "SEQUENCE SET", Section = SpecSection.Data,
            Defn = "SELECT pg_catalog.setval('app.items_id_seq', 4, true);\n", DropStmt = "",
            Namespace = Schema, Owner = "postgres", Dependencies = [217],
        });

        if (largeObjects)
        {
            AddLargeObjects(a, v16);
        }

        a.Entries.Add(new SpecEntry
        {
            DumpId = 3200, TableOid = "1259", Oid = "16395", Tag = "items_name_idx", Desc = "INDEX",
            Section = SpecSection.PostData,
            Defn = "CREATE INDEX items_name_idx ON app.items USING btree (name);\n",
            DropStmt = "DROP INDEX app.items_name_idx;\n", Namespace = Schema, Tablespace = "",
            Owner = "postgres", Dependencies = [216],
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 3361, Tag = "TABLE items", Desc = "COMMENT", Section = SpecSection.None,
            Defn = "COMMENT ON TABLE app.items IS 'sample ''items'' table';\n", DropStmt = "",
            Namespace = Schema, Owner = "postgres", Dependencies = [216],
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = 3362, Tag = "TABLE items", Desc = "ACL", Section = SpecSection.None,
            Defn = "GRANT SELECT ON TABLE app.items TO PUBLIC;\n", DropStmt = "",
            Namespace = Schema, Owner = "postgres", Dependencies = [216],
        });
        return a;
    }

    private static void AddLargeObjects(SpecArchive a, bool v16)
    {
        var los = new[]
        {
            new SpecLargeObject(LoHello, HelloBytes),
            new SpecLargeObject(LoEmpty, []),
            new SpecLargeObject(LoHigh, HighBytes),
        };

        if (!v16)
        {
            // ≤ 1.15: one BLOB entry per large object, one BLOBS data entry.
            var id = 3340;
            foreach (var lo in los)
            {
                a.Entries.Add(new SpecEntry
                {
                    DumpId = id++, TableOid = "2613", Oid = lo.Oid.ToString(CultureInfo.InvariantCulture),
                    Tag = lo.Oid.ToString(CultureInfo.InvariantCulture), Desc = "BLOB", Section = SpecSection.PreData,
                    Defn = $"SELECT pg_catalog.lo_create('{lo.Oid}');\n",
                    DropStmt = $"SELECT pg_catalog.lo_unlink('{lo.Oid}');\n", Owner = "postgres",
                });
            }

            a.Entries.Add(new SpecEntry
            {
                DumpId = 3354, HadDumper = true, Tag = "BLOBS", Desc = "BLOBS", Section = SpecSection.Data,
                Defn = "", DropStmt = "", Owner = null, LargeObjects = [.. los],
            });
            return;
        }

        // 1.16: BLOB METADATA groups (defn = OIDs one per line), each with its own BLOBS entry.
        AddGroup(a, 3340, 3354, [los[0], los[1]]);
        AddGroup(a, 3341, 3355, [los[2]]);
    }

    private static void AddGroup(SpecArchive a, int metaId, int blobsId, SpecLargeObject[] group)
    {
        var first = group[0].Oid.ToString(CultureInfo.InvariantCulture);
        var tag = group.Length == 1 ? first : $"{first}..{group[^1].Oid}";
        a.Entries.Add(new SpecEntry
        {
            DumpId = metaId, TableOid = "2613", Oid = first, Tag = tag, Desc = "BLOB METADATA",
            Section = SpecSection.PreData,
            Defn = string.Concat(group.Select(lo => $"{lo.Oid}\n")), DropStmt = "", Owner = "postgres",
        });
        a.Entries.Add(new SpecEntry
        {
            DumpId = blobsId, HadDumper = true, Tag = tag, Desc = "BLOBS", Section = SpecSection.Data,
            Defn = "", DropStmt = "", Owner = "postgres", Dependencies = [metaId], LargeObjects = [.. group],
        });
    }
}
