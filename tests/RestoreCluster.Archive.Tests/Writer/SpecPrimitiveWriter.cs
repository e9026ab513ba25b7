using System.Text;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>The primitive encodings of archive-format.md §2 (WriteInt, WriteStr, WriteOffset).</summary>
internal sealed class SpecPrimitiveWriter(Stream output, int intSize, int offSize)
{
    public const byte OffsetPosNotSet = 1;
    public const byte OffsetPosSet = 2;
    public const byte OffsetNoData = 3;

    public Stream Output { get; } = output;

    public void WriteByte(byte value) => Output.WriteByte(value);

    public void WriteBytes(ReadOnlySpan<byte> bytes) => Output.Write(bytes);

    /// <summary>Sign byte (0 positive, 1 negative), then the magnitude in intSize little-endian bytes.</summary>
    public void WriteInt(long value)
    {
        Output.WriteByte(value < 0 ? (byte)1 : (byte)0);
        var magnitude = value < 0 ? (ulong)(-value) : (ulong)value;
        for (var i = 0; i < intSize; i++)
        {
            Output.WriteByte((byte)(magnitude & 0xff));
            magnitude >>= 8;
        }

        if (magnitude != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), $"{value} does not fit in intSize {intSize}");
        }
    }

    /// <summary>An int length then the raw bytes; null is length −1, "" is length 0.</summary>
    public void WriteStr(string? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        WriteInt(bytes.Length);
        Output.Write(bytes);
    }

    /// <summary>Flag byte then offSize bytes holding the unsigned little-endian position (0 unless the flag is 2).</summary>
    public void WriteOffset(byte flag, long position)
    {
        Output.WriteByte(flag);
        var v = flag == OffsetPosSet ? (ulong)position : 0UL;
        for (var i = 0; i < offSize; i++)
        {
            Output.WriteByte((byte)(v & 0xff));
            v >>= 8;
        }
    }
}
