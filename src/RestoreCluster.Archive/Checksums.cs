namespace RestoreCluster.Archive;

/// <summary>Adler-32 (RFC 1950) and CRC-32 (RFC 1952), to check zlib and gzip trailers.</summary>
internal static class Checksums
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    public static uint Adler32(uint adler, ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = adler & 0xffff, b = adler >> 16;
        while (data.Length > 0)
        {
            // 5552 is the largest n for which the sums cannot overflow 32 bits before the modulo.
            int n = Math.Min(data.Length, 5552);
            foreach (byte x in data[..n])
            {
                a += x;
                b += a;
            }

            a %= Mod;
            b %= Mod;
            data = data[n..];
        }

        return (b << 16) | a;
    }

    public static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (byte x in data)
        {
            crc = CrcTable[(crc ^ x) & 0xff] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
