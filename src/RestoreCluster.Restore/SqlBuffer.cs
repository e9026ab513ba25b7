using System.Text;

namespace RestoreCluster.Restore;

/// <summary>
/// Bytes of SQL text in the archive's encoding, built the way pg_restore's ahprintf calls concatenate
/// them: literal text is ASCII; names and definitions keep their stored bytes.
/// </summary>
internal sealed class SqlBuffer
{
    private readonly MemoryStream _bytes = new();

    public int Length => (int)_bytes.Length;

    public SqlBuffer Add(string ascii)
    {
        foreach (char c in ascii)
        {
            _bytes.WriteByte((byte)c);
        }

        return this;
    }

    public SqlBuffer Add(ReadOnlySpan<byte> raw)
    {
        _bytes.Write(raw);
        return this;
    }

    /// <summary>fmtId: the identifier, double-quoted unless it is lower-case letters, digits and underscores
    /// (not starting with a digit) and not a keyword that needs quoting.</summary>
    public SqlBuffer Id(ReadOnlySpan<byte> raw)
    {
        if (!NeedsQuotes(raw))
        {
            return Add(raw);
        }

        _bytes.WriteByte((byte)'"');
        foreach (byte b in raw)
        {
            if (b == (byte)'"')
            {
                _bytes.WriteByte(b);
            }

            _bytes.WriteByte(b);
        }

        _bytes.WriteByte((byte)'"');
        return this;
    }

    /// <summary>fmtQualifiedId: schema.name, each part through fmtId (no schema when it is null or empty).</summary>
    public SqlBuffer QualifiedId(byte[]? schema, ReadOnlySpan<byte> name)
    {
        if (schema is { Length: > 0 })
        {
            Id(schema).Add(".");
        }

        return Id(name);
    }

    /// <summary>appendStringLiteral: single quotes doubled, and backslashes too when standard_conforming_strings is off.</summary>
    public SqlBuffer StringLiteral(ReadOnlySpan<byte> raw, bool stdStrings)
    {
        _bytes.WriteByte((byte)'\'');
        foreach (byte b in raw)
        {
            if (b == (byte)'\'' || (b == (byte)'\\' && !stdStrings))
            {
                _bytes.WriteByte(b);
            }

            _bytes.WriteByte(b);
        }

        _bytes.WriteByte((byte)'\'');
        return this;
    }

    /// <summary>appendByteaLiteral: <c>'\x0a1b…'</c> (with a doubled backslash when standard_conforming_strings is off).</summary>
    public SqlBuffer ByteaLiteral(ReadOnlySpan<byte> data, bool stdStrings)
    {
        const string Hex = "0123456789abcdef";
        _bytes.WriteByte((byte)'\'');
        if (!stdStrings)
        {
            _bytes.WriteByte((byte)'\\');
        }

        _bytes.WriteByte((byte)'\\');
        _bytes.WriteByte((byte)'x');
        foreach (byte b in data)
        {
            _bytes.WriteByte((byte)Hex[b >> 4]);
            _bytes.WriteByte((byte)Hex[b & 0xf]);
        }

        _bytes.WriteByte((byte)'\'');
        return this;
    }

    /// <summary>sanitize_line: NULL becomes "-" (or nothing); CR and LF become spaces.</summary>
    public SqlBuffer Sanitized(byte[]? raw, bool hyphen)
    {
        if (raw is null)
        {
            return hyphen ? Add("-") : this;
        }

        foreach (byte b in raw)
        {
            _bytes.WriteByte(b is (byte)'\n' or (byte)'\r' ? (byte)' ' : b);
        }

        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    public void Clear() => _bytes.SetLength(0);

    public override string ToString() => Encoding.Latin1.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);

    // The identifier production of scan.l, checked byte by byte (no locale-dependent islower()).
    private static bool NeedsQuotes(ReadOnlySpan<byte> raw)
    {
        if (raw.Length == 0 || !(raw[0] is >= (byte)'a' and <= (byte)'z' || raw[0] == (byte)'_'))
        {
            return true;
        }

        foreach (byte b in raw)
        {
            if (!(b is >= (byte)'a' and <= (byte)'z' || b is >= (byte)'0' and <= (byte)'9' || b == (byte)'_'))
            {
                return true;
            }
        }

        return SqlKeywords.NeedQuotes.Contains(Encoding.ASCII.GetString(raw));
    }
}
