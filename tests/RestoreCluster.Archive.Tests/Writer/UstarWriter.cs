using System.Text;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>
/// Minimal ustar writer for the tar format (archive-format.md §7): 512-byte header blocks, names
/// NUL-padded to 100 bytes, magic "ustar\0" + "00", uname/gname postgres, mode 0600, data padded to
/// 512 bytes, two zero blocks at the end.
/// </summary>
internal sealed class UstarWriter(Stream output, long mtime)
{
    private const int Block = 512;

    public List<string> MemberNames { get; } = [];

    public void AddMember(string name, ReadOnlySpan<byte> content)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length > 100)
        {
            throw new ArgumentException($"tar member name too long: {name}", nameof(name));
        }

        var h = new byte[Block];
        nameBytes.CopyTo(h, 0);
        Octal(h, 100, 8, 0x180); // mode 0600
        Octal(h, 108, 8, 0); // uid
        Octal(h, 116, 8, 0); // gid
        Octal(h, 124, 12, content.Length); // size
        Octal(h, 136, 12, mtime); // mtime
        h[156] = (byte)'0'; // typeflag: regular file
        Encoding.ASCII.GetBytes("ustar\0").CopyTo(h, 257);
        Encoding.ASCII.GetBytes("00").CopyTo(h, 263);
        Encoding.ASCII.GetBytes("postgres").CopyTo(h, 265); // uname
        Encoding.ASCII.GetBytes("postgres").CopyTo(h, 297); // gname

        // Checksum: sum of all header bytes with the checksum field taken as 8 spaces;
        // stored as 6 octal digits, NUL, space.
        for (var i = 148; i < 156; i++)
        {
            h[i] = (byte)' ';
        }

        var sum = 0;
        foreach (var b in h)
        {
            sum += b;
        }

        Octal(h, 148, 7, sum);
        h[155] = (byte)' ';

        output.Write(h);
        output.Write(content);
        var pad = (Block - (content.Length % Block)) % Block;
        output.Write(new byte[pad]);
        MemberNames.Add(name);
    }

    /// <summary>Writes the two zero blocks that end the archive.</summary>
    public void Finish() => output.Write(new byte[2 * Block]);

    /// <summary>Octal digits, zero-padded to len−1, then a NUL.</summary>
    private static void Octal(byte[] h, int offset, int len, long value)
    {
        var digits = Convert.ToString(value, 8).PadLeft(len - 1, '0');
        if (digits.Length > len - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "value too large for the tar field");
        }

        Encoding.ASCII.GetBytes(digits).CopyTo(h, offset);
        h[offset + len - 1] = 0;
    }
}
