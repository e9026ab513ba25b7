using System.Text;

namespace RestoreCluster.Archive;

/// <summary>Reads the header that starts a custom archive and every toc.dat (pg_backup_archiver.c ReadHead).</summary>
internal static class HeaderReader
{
    public static ReadOnlySpan<byte> Magic => "PGDMP"u8;

    public static ArchiveHeader Read(ArchiveInput input, ArchiveFormat expected)
    {
        input.Context = "header";
        Span<byte> magic = stackalloc byte[5];
        input.ReadExactly(magic);
        if (!magic.SequenceEqual(Magic))
        {
            throw new ArchiveException($"\"{input.Name}\" does not start with the PGDMP signature; it is not a pg_dump archive");
        }

        // Layout: vmaj vmin vrev intSize offSize format, then compression, the seven tm fields and three strings.
        byte vmaj = input.ReadByte();
        byte vmin = input.ReadByte();
        byte vrev = input.ReadByte();
        var version = new ArchiveVersion(vmaj, vmin, vrev);
        if (version < ArchiveVersion.Oldest || version > ArchiveVersion.Newest)
        {
            throw new ArchiveException(
                $"unsupported archive version {vmaj}.{vmin} in the header of \"{input.Name}\" (supported: 1.12 to 1.16, written by PostgreSQL 9.0 to 18)");
        }

        byte intSize = input.ReadByte();
        if (intSize is < 1 or > 8)
        {
            throw new ArchiveException($"unsupported integer size {intSize} in the header of \"{input.Name}\" (at byte {input.Position - 1})");
        }

        byte offSize = input.ReadByte();
        if (offSize is < 1 or > 16)
        {
            throw new ArchiveException($"unsupported offset size {offSize} in the header of \"{input.Name}\" (at byte {input.Position - 1})");
        }

        input.IntSize = intSize;
        input.OffSize = offSize;
        byte formatByte = input.ReadByte();
        // pg_dump writes format 3 (tar) into a directory archive's toc.dat (pg_backup_directory.c).
        bool formatOk = expected switch
        {
            ArchiveFormat.Custom => formatByte == (byte)ArchiveFormat.Custom,
            ArchiveFormat.Directory => formatByte is (byte)ArchiveFormat.Tar or (byte)ArchiveFormat.Directory,
            _ => formatByte == (byte)ArchiveFormat.Tar,
        };
        if (!formatOk)
        {
            string known = formatByte switch { 1 => " (custom)", 3 => " (tar)", 5 => " (directory)", _ => " (unknown)" };
            throw new ArchiveException(
                $"format byte {formatByte}{known} in the header of \"{input.Name}\" does not match its {expected.ToString().ToLowerInvariant()} layout");
        }

        CompressionAlgorithm compression;
        int? level = null;
        if (version >= ArchiveVersion.V1_15)
        {
            byte alg = input.ReadByte();
            if (alg > 3)
            {
                throw new ArchiveException($"unknown compression algorithm {alg} in the header of \"{input.Name}\" (at byte {input.Position - 1})");
            }

            compression = (CompressionAlgorithm)alg;
        }
        else
        {
            level = input.ReadInt32("compression level");
            if (level is < -1 or > 9)
            {
                throw new ArchiveException($"invalid compression level {level} in the header of \"{input.Name}\"");
            }

            compression = level == 0 ? CompressionAlgorithm.None : CompressionAlgorithm.Gzip;
        }

        var created = new ArchiveCreationTime(
            input.ReadInt32("tm_sec"),
            input.ReadInt32("tm_min"),
            input.ReadInt32("tm_hour"),
            input.ReadInt32("tm_mday"),
            input.ReadInt32("tm_mon"),
            input.ReadInt32("tm_year"),
            input.ReadInt32("tm_isdst"));
        input.Context = "header, database name";
        byte[]? db = input.ReadCString();
        input.Context = "header, server version";
        byte[]? server = input.ReadCString();
        input.Context = "header, pg_dump version";
        byte[]? dump = input.ReadCString();
        return new ArchiveHeader
        {
            Version = version,
            IntSize = intSize,
            OffSize = offSize,
            Format = expected,
            FormatByte = formatByte,
            Compression = compression,
            CompressionLevel = level,
            Created = created,
            DatabaseNameBytes = db,
            ServerVersionBytes = server,
            DumpVersionBytes = dump,
            // The version strings are ASCII in practice; the database name is decoded again once the
            // archive's encoding is known.
            DatabaseName = db is null ? null : Encoding.Latin1.GetString(db),
            ServerVersion = server is null ? null : Encoding.Latin1.GetString(server),
            DumpVersion = dump is null ? null : Encoding.Latin1.GetString(dump),
            TocStart = input.Position,
        };
    }
}
