using System.Text;

namespace RestoreCluster.Archive;

/// <summary>
/// One ustar member header as pg_dump writes it (pg_backup_tar.c _tarWriteHeader, tarCreateHeader):
/// 512-byte blocks; name at 0 (100 bytes, NUL padded), size at 124 (12 bytes octal, or base-256 when the
/// first byte has its high bit set), checksum at 148 (8 bytes octal, computed with the field as spaces).
/// </summary>
internal sealed record TarMember(string Name, long Size, long HeaderOffset)
{
    public const int BlockSize = 512;

    public long DataOffset => HeaderOffset + BlockSize;

    /// <summary>Bytes of padding after the data, up to the next 512-byte boundary.</summary>
    public long Padding => (BlockSize - (Size % BlockSize)) % BlockSize;

    /// <summary>Reads the next member header; null at the end of the archive (end of file).</summary>
    public static TarMember? ReadNext(ArchiveInput input)
    {
        var block = new byte[BlockSize];
        while (true)
        {
            long at = input.Position;
            int n = input.ReadAtMost(block);
            if (n == 0)
            {
                return null;
            }

            if (n < BlockSize)
            {
                throw new ArchiveException($"incomplete tar header found ({n} byte(s)) in \"{input.Name}\" at byte {at}; the archive is truncated");
            }

            // pg_restore silently steps over all-zero blocks, such as the two that end a tar file.
            if (Array.TrueForAll(block, b => b == 0))
            {
                continue;
            }

            long stored = ReadNumber(block.AsSpan(148, 8));
            long computed = Checksum(block);
            if (stored != computed)
            {
                throw new ArchiveException(
                    $"corrupt tar header found in \"{input.Name}\" at byte {at} (checksum: expected {stored}, computed {computed})");
            }

            int nameLen = Array.IndexOf(block, (byte)0, 0, 100);
            string name = Encoding.Latin1.GetString(block, 0, nameLen < 0 ? 100 : nameLen);
            long size = ReadNumber(block.AsSpan(124, 12));
            if (size < 0)
            {
                throw new ArchiveException($"invalid size in the tar header of member \"{name}\" in \"{input.Name}\" at byte {at}");
            }

            return new TarMember(name, size, at);
        }
    }

    /// <summary>True if the block is a tar header pg_restore would recognise (isValidTarHeader).</summary>
    public static bool LooksLikeTar(ReadOnlySpan<byte> block)
    {
        if (block.Length < BlockSize)
        {
            return false;
        }

        // POSIX "ustar\0" + "00", GNU "ustar  \0", and the "ustar00\0" some writers use.
        var magicField = block.Slice(257, 8);
        bool magic = magicField.SequenceEqual((ReadOnlySpan<byte>)[.. "ustar"u8, 0, (byte)'0', (byte)'0'])
            || magicField.SequenceEqual("ustar  \0"u8)
            || magicField.SequenceEqual("ustar00\0"u8);
        return magic && ReadNumber(block.Slice(148, 8)) == Checksum(block);
    }

    // read_tar_number: leading spaces, then octal digits up to the first other byte; or base-256.
    private static long ReadNumber(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            long v = field[0] & 0x7f;
            for (int i = 1; i < field.Length; i++)
            {
                if (v > (long.MaxValue >> 8))
                {
                    return -1;
                }

                v = (v << 8) | field[i];
            }

            return v;
        }

        int p = 0;
        while (p < field.Length && field[p] == (byte)' ')
        {
            p++;
        }

        long result = 0;
        while (p < field.Length && field[p] is >= (byte)'0' and <= (byte)'7')
        {
            result = (result << 3) + (field[p] - '0');
            p++;
        }

        return result;
    }

    private static long Checksum(ReadOnlySpan<byte> block)
    {
        long sum = 8 * ' ';
        for (int i = 0; i < BlockSize; i++)
        {
            if (i is < 148 or >= 156)
            {
                sum += block[i];
            }
        }

        return sum;
    }
}
