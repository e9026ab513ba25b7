using System.Buffers.Binary;
using System.Text;

namespace RestoreCluster.Archive;

/// <summary>One local time type of a TZif file (a ttinfo record plus its standard/UT indicators).</summary>
internal readonly record struct TzifType(int UtcOffset, bool IsDst, string Abbreviation, bool IsStandard, bool IsUniversal);

/// <summary>
/// The contents of a compiled time zone file (TZif, versions 1 to 4, see tzfile(5)). When the file has a
/// version 2+ body, the 64-bit transition data and the footer TZ string are used, as a 64-bit glibc does.
/// </summary>
internal sealed class TzifReader
{
    private const int HeaderLength = 44;

    private TzifReader(long[] transitions, byte[] transitionTypes, TzifType[] types, string? footer)
    {
        Transitions = transitions;
        TransitionTypes = transitionTypes;
        Types = types;
        Footer = footer;
    }

    /// <summary>Transition instants (Unix seconds), ascending.</summary>
    public long[] Transitions { get; }

    /// <summary>For each transition, the index into <see cref="Types"/> in effect from that instant.</summary>
    public byte[] TransitionTypes { get; }

    public TzifType[] Types { get; }

    /// <summary>The POSIX TZ string of the footer, or null when absent or empty.</summary>
    public string? Footer { get; }

    /// <summary>Reads and parses a file; null when it cannot be read or is not valid TZif (glibc then falls back).</summary>
    public static TzifReader? TryLoad(string path)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return null;
        }

        return Parse(bytes);
    }

    public static TzifReader? Parse(ReadOnlySpan<byte> data)
    {
        if (!TryReadHeader(data, out var version, out var counts))
        {
            return null;
        }

        var v1Length = BodyLength(counts, timeSize: 4);
        if (version < '2')
        {
            return data.Length < HeaderLength + v1Length ? null : ParseBody(data.Slice(HeaderLength), counts, 4, footer: null);
        }

        var second = HeaderLength + v1Length;
        if (second < 0 || data.Length < second || !TryReadHeader(data.Slice(second), out _, out var counts2))
        {
            return null;
        }

        var bodyStart = second + HeaderLength;
        var bodyLength = BodyLength(counts2, timeSize: 8);
        if (bodyLength < 0 || data.Length < bodyStart + bodyLength)
        {
            return null;
        }

        string? footer = null;
        var rest = data.Slice(bodyStart + bodyLength);
        if (rest.Length > 0 && rest[0] == (byte)'\n')
        {
            var text = rest.Slice(1);
            var end = text.IndexOf((byte)'\n');
            if (end < 0)
            {
                end = text.Length;
            }

            var nul = text.Slice(0, end).IndexOf((byte)0);
            footer = Encoding.ASCII.GetString(text.Slice(0, nul >= 0 ? nul : end));
            if (footer.Length == 0)
            {
                footer = null;
            }
        }

        return ParseBody(data.Slice(bodyStart), counts2, 8, footer);
    }

    private static bool TryReadHeader(ReadOnlySpan<byte> data, out byte version, out int[] counts)
    {
        version = 0;
        counts = new int[6];
        if (data.Length < HeaderLength || !data.Slice(0, 4).SequenceEqual("TZif"u8))
        {
            return false;
        }

        version = data[4];
        for (var i = 0; i < 6; i++)
        {
            var c = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(20 + (4 * i)));
            if (c > 1_000_000)
            {
                return false;
            }

            counts[i] = (int)c;
        }

        return true;
    }

    // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    private static int BodyLength(int[] c, int timeSize) =>
        (c[3] * timeSize) + c[3] + (c[4] * 6) + c[5] + (c[2] * (timeSize + 4)) + c[1] + c[0];

    private static TzifReader? ParseBody(ReadOnlySpan<byte> body, int[] c, int timeSize, string? footer)
    {
        int isUtCount = c[0], isStdCount = c[1], leapCount = c[2], timeCount = c[3], typeCount = c[4], charCount = c[5];
        if (typeCount == 0 || (isUtCount != 0 && isUtCount != typeCount) || (isStdCount != 0 && isStdCount != typeCount))
        {
            return null;
        }

        var pos = 0;
        var transitions = new long[timeCount];
        for (var i = 0; i < timeCount; i++, pos += timeSize)
        {
            transitions[i] = timeSize == 8
                ? BinaryPrimitives.ReadInt64BigEndian(body.Slice(pos))
                : BinaryPrimitives.ReadInt32BigEndian(body.Slice(pos));
        }

        var transitionTypes = body.Slice(pos, timeCount).ToArray();
        pos += timeCount;
        var typeStart = pos;
        pos += typeCount * 6;
        var chars = body.Slice(pos, charCount);
        pos += charCount + (leapCount * (timeSize + 4));
        var isStd = body.Slice(pos, isStdCount);
        pos += isStdCount;
        var isUt = body.Slice(pos, isUtCount);

        var types = new TzifType[typeCount];
        for (var i = 0; i < typeCount; i++)
        {
            var rec = body.Slice(typeStart + (6 * i), 6);
            int abbrIndex = rec[5];
            if (abbrIndex > charCount)
            {
                return null;
            }

            var abbrBytes = chars.Slice(abbrIndex);
            var nul = abbrBytes.IndexOf((byte)0);
            var abbr = Encoding.ASCII.GetString(nul >= 0 ? abbrBytes.Slice(0, nul) : abbrBytes);
            types[i] = new TzifType(
                BinaryPrimitives.ReadInt32BigEndian(rec),
                rec[4] != 0,
                abbr,
                isStdCount > 0 && isStd[i] != 0,
                isUtCount > 0 && isUt[i] != 0);
        }

        foreach (var t in transitionTypes)
        {
            if (t >= typeCount)
            {
                return null;
            }
        }

        for (var i = 1; i < transitions.Length; i++)
        {
            if (transitions[i] <= transitions[i - 1])
            {
                return null;
            }
        }

        return new TzifReader(transitions, transitionTypes, types, footer);
    }

    /// <summary>
    /// Builds the zone glibc uses for a TZ value such as <c>AAA3BBB</c> (DST named, no rule given) from the
    /// <c>posixrules</c> file: only two types remain (the user's standard and daylight offsets and names) and
    /// wall-clock transition instants are shifted by the difference between the file's and the user's offsets.
    /// The footer rule keeps its own names and offsets (glibc reports e.g. EDT after the last transition).
    /// Returns null when the file has fewer than two types.
    /// </summary>
    public TzifReader? WithUserOffsets(string stdName, string dstName, int stdOffset, int dstOffset)
    {
        if (Types.Length < 2)
        {
            return null;
        }

        // The file's own standard offset: that of the latest transition to standard time.
        var ruleStd = Types[0].UtcOffset;
        for (var i = Transitions.Length - 1; i >= 0; i--)
        {
            if (!Types[TransitionTypes[i]].IsDst)
            {
                ruleStd = Types[TransitionTypes[i]].UtcOffset;
                break;
            }
        }

        var transitions = (long[])Transitions.Clone();
        var transitionTypes = new byte[transitions.Length];
        var previousWasDst = false;
        for (var i = 0; i < transitions.Length; i++)
        {
            var type = Types[TransitionTypes[i]];
            transitionTypes[i] = type.IsDst ? (byte)1 : (byte)0;
            if (!type.IsUniversal)
            {
                // As observed in a fresh glibc 2.36 process (a process that re-runs tzset several times, such as
                // python, sees other shifts): transitions made from daylight time are not moved at all, those
                // made from standard time move by the user's standard offset minus the file's.
                transitions[i] += previousWasDst && !type.IsStandard ? 0 : stdOffset - ruleStd;
            }

            previousWasDst = type.IsDst;
        }

        var types = new TzifType[Types.Length];
        Array.Copy(Types, types, types.Length);
        types[0] = new TzifType(stdOffset, false, stdName, false, false);
        types[1] = new TzifType(dstOffset, true, dstName, false, false);
        return new TzifReader(transitions, transitionTypes, types[..2], Footer);
    }
}
