using System.Buffers.Binary;

namespace RestoreCluster.Archive;

/// <summary>
/// Reads pg_dump's primitive encodings (pg_backup_archiver.c ReadInt/ReadStr/ReadOffset) from a stream,
/// tracking the position so that every error names the file and the byte offset.
/// </summary>
internal sealed class ArchiveInput
{
    // Strings longer than this are read piecewise, so a corrupt length on a pipe ends in a clear
    // end-of-file error instead of one huge allocation.
    private const int DirectReadLimit = 1 << 20;

    private readonly Stream _stream;
    private readonly long _length;

    public ArchiveInput(Stream stream, string name, long startPosition = 0)
    {
        _stream = stream;
        Name = name;
        Position = startPosition;
        _length = stream.CanSeek ? stream.Length : -1;
    }

    /// <summary>The file the bytes come from, as the user named it.</summary>
    public string Name { get; }

    /// <summary>Offset of the next byte within <see cref="Name"/>.</summary>
    public long Position { get; private set; }

    public int IntSize { get; set; } = 4;

    public int OffSize { get; set; } = 8;

    /// <summary>Describes what is being read, for error messages ("TOC entry 3 of 20, field tag").</summary>
    public string Context { get; set; } = "header";

    public Stream BaseStream => _stream;

    public ArchiveException Error(string what) => new($"{what} in \"{Name}\" at byte {Position} ({Context})");

    public byte ReadByte()
    {
        int b = _stream.ReadByte();
        if (b < 0)
        {
            throw Truncated(1);
        }

        Position++;
        return (byte)b;
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes or fails with a truncation error.</summary>
    public void ReadExactly(Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = _stream.Read(buffer[done..]);
            if (n == 0)
            {
                Position += done;
                throw Truncated(buffer.Length - done);
            }

            done += n;
        }

        Position += done;
    }

    /// <summary>Reads up to buffer.Length bytes; returns fewer only at end of input.</summary>
    public int ReadAtMost(Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = _stream.Read(buffer[done..]);
            if (n == 0)
            {
                break;
            }

            done += n;
        }

        Position += done;
        return done;
    }

    // WriteInt: a sign byte, then intSize bytes of magnitude, least significant first.
    public long ReadInt()
    {
        Span<byte> buf = stackalloc byte[1 + 8];
        var part = buf[..(1 + IntSize)];
        ReadExactly(part);
        long value = 0;
        for (int i = IntSize; i >= 1; i--)
        {
            value = (value << 8) | part[i];
        }

        return part[0] != 0 ? -value : value;
    }

    /// <summary>An int that must fit a C int, as pg_dump writes it.</summary>
    public int ReadInt32(string field)
    {
        long start = Position;
        long v = ReadInt();
        if (v is > int.MaxValue or < int.MinValue)
        {
            throw new ArchiveException($"integer {v} out of range for {field} in \"{Name}\" at byte {start} ({Context})");
        }

        return (int)v;
    }

    /// <summary>WriteStr: an int length (-1 = NULL), then that many bytes, no terminator.</summary>
    public byte[]? ReadString()
    {
        long start = Position;
        long len = ReadInt();
        if (len == -1)
        {
            return null;
        }

        if (len < 0 || len > int.MaxValue)
        {
            throw new ArchiveException($"invalid string length {len} in \"{Name}\" at byte {start} ({Context})");
        }

        if (_length >= 0 && len > _length - Position)
        {
            throw new ArchiveException(
                $"string length {len} runs past the end of \"{Name}\" (string at byte {start}, file is {_length} bytes; {Context})");
        }

        if (len <= DirectReadLimit)
        {
            var bytes = new byte[len];
            ReadExactly(bytes);
            return bytes;
        }

        using var ms = new MemoryStream();
        var chunk = new byte[DirectReadLimit];
        long left = len;
        while (left > 0)
        {
            int n = (int)Math.Min(left, chunk.Length);
            ReadExactly(chunk.AsSpan(0, n));
            ms.Write(chunk, 0, n);
            left -= n;
        }

        return ms.ToArray();
    }

    /// <summary>
    /// A string as pg_restore sees it: ReadStr NUL-terminates the bytes and every later use treats them as a
    /// C string, so a (corrupt) NUL inside ends the value there.
    /// </summary>
    public byte[]? ReadCString()
    {
        byte[]? bytes = ReadString();
        int nul = bytes is null ? -1 : Array.IndexOf(bytes, (byte)0);
        return nul < 0 ? bytes : bytes![..nul];
    }

    // WriteOffset: a flag byte, then offSize bytes of an unsigned little-endian position.
    public (DataOffsetState State, long Offset) ReadOffset()
    {
        long start = Position;
        byte flag = ReadByte();
        Span<byte> buf = stackalloc byte[8];
        buf.Clear();
        Span<byte> raw = stackalloc byte[OffSize];
        ReadExactly(raw);
        for (int i = 0; i < OffSize; i++)
        {
            if (i < 8)
            {
                buf[i] = raw[i];
            }
            else if (raw[i] != 0)
            {
                throw new ArchiveException($"data offset too large in \"{Name}\" at byte {start} ({Context})");
            }
        }

        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(buf);
        if (flag is < 1 or > 3)
        {
            throw new ArchiveException($"unexpected data offset flag {flag} in \"{Name}\" at byte {start} ({Context})");
        }

        if (offset > long.MaxValue)
        {
            throw new ArchiveException($"data offset {offset} out of range in \"{Name}\" at byte {start} ({Context})");
        }

        return ((DataOffsetState)flag, (long)offset);
    }

    public void Skip(long count)
    {
        if (count <= 0)
        {
            return;
        }

        if (_stream.CanSeek)
        {
            if (_length >= 0 && count > _length - Position)
            {
                throw Truncated(count);
            }

            _stream.Seek(count, SeekOrigin.Current);
            Position += count;
            return;
        }

        var buf = new byte[(int)Math.Min(count, 81920)];
        while (count > 0)
        {
            int n = (int)Math.Min(count, buf.Length);
            ReadExactly(buf.AsSpan(0, n));
            count -= n;
        }
    }

    public ArchiveException Truncated(long wanted) =>
        new($"unexpected end of file in \"{Name}\" at byte {Position}: {wanted} more byte(s) needed ({Context}); the archive is truncated or corrupt");
}
