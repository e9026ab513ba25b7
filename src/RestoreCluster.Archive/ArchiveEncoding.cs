using System.Text;

namespace RestoreCluster.Archive;

/// <summary>
/// The client encoding the dump was written in (its ENCODING entry) and the .NET encoding that decodes it.
/// Encodings .NET cannot decode exactly fall back to Latin-1, which maps every byte to one char and back.
/// </summary>
public sealed class ArchiveEncoding
{
    // Every name PostgreSQL's pg_char_to_encoding accepts (src/common/encnames.c), compared after removing
    // everything but letters and digits, with the .NET encoding that decodes it (null: kept as Latin-1,
    // which maps each byte to one char and back).
    private static readonly Dictionary<string, string?> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["abc"] = "windows-1258", ["alt"] = "cp866", ["big5"] = "big5", ["euccn"] = "gb2312",
        ["eucjis2004"] = null, ["eucjp"] = "euc-jp", ["euckr"] = "euc-kr", ["euctw"] = null,
        ["gb18030"] = "gb18030", ["gbk"] = "gbk", ["iso88591"] = "iso-8859-1", ["iso885910"] = null,
        ["iso885913"] = "iso-8859-13", ["iso885914"] = null, ["iso885915"] = "iso-8859-15", ["iso885916"] = null,
        ["iso88592"] = "iso-8859-2", ["iso88593"] = "iso-8859-3", ["iso88594"] = "iso-8859-4",
        ["iso88595"] = "iso-8859-5", ["iso88596"] = "iso-8859-6", ["iso88597"] = "iso-8859-7",
        ["iso88598"] = "iso-8859-8", ["iso88599"] = "iso-8859-9", ["johab"] = "johab", ["koi8"] = "koi8-r",
        ["koi8r"] = "koi8-r", ["koi8u"] = "koi8-u", ["latin1"] = "iso-8859-1", ["latin10"] = null,
        ["latin2"] = "iso-8859-2", ["latin3"] = "iso-8859-3", ["latin4"] = "iso-8859-4", ["latin5"] = "iso-8859-9",
        ["latin6"] = null, ["latin7"] = "iso-8859-13", ["latin8"] = null, ["latin9"] = "iso-8859-15",
        ["mskanji"] = "shift_jis", ["muleinternal"] = null, ["shiftjis"] = "shift_jis", ["shiftjis2004"] = null,
        ["sjis"] = "shift_jis", ["sqlascii"] = null, ["tcvn"] = "windows-1258", ["tcvn5712"] = "windows-1258",
        ["uhc"] = "ks_c_5601-1987", ["unicode"] = "utf-8", ["utf8"] = "utf-8", ["vscii"] = "windows-1258",
        ["win"] = "windows-1251", ["win1250"] = "windows-1250", ["win1251"] = "windows-1251",
        ["win1252"] = "windows-1252", ["win1253"] = "windows-1253", ["win1254"] = "windows-1254",
        ["win1255"] = "windows-1255", ["win1256"] = "windows-1256", ["win1257"] = "windows-1257",
        ["win1258"] = "windows-1258", ["win866"] = "cp866", ["win874"] = "windows-874", ["win932"] = "shift_jis",
        ["win936"] = "gbk", ["win949"] = "ks_c_5601-1987", ["win950"] = "big5", ["windows1250"] = "windows-1250",
        ["windows1251"] = "windows-1251", ["windows1252"] = "windows-1252", ["windows1253"] = "windows-1253",
        ["windows1254"] = "windows-1254", ["windows1255"] = "windows-1255", ["windows1256"] = "windows-1256",
        ["windows1257"] = "windows-1257", ["windows1258"] = "windows-1258", ["windows866"] = "cp866",
        ["windows874"] = "windows-874", ["windows932"] = "shift_jis", ["windows936"] = "gbk",
        ["windows949"] = "ks_c_5601-1987", ["windows950"] = "big5",
    };

    static ArchiveEncoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    private ArchiveEncoding(string name, Encoding encoding)
    {
        Name = name;
        Encoding = encoding;
    }

    /// <summary>The PostgreSQL encoding name as the ENCODING entry gives it (SQL_ASCII when absent).</summary>
    public string Name { get; }

    /// <summary>Decodes the archive's text.</summary>
    public Encoding Encoding { get; }

    public static ArchiveEncoding SqlAscii { get; } = new("SQL_ASCII", Encoding.Latin1);

    /// <summary>The encoding PostgreSQL knows by this name, or null if it knows none.</summary>
    public static ArchiveEncoding? ForName(string pgName)
    {
        string clean = new(pgName.Where(char.IsAsciiLetterOrDigit).ToArray());
        if (!Names.TryGetValue(clean, out string? dotnet))
        {
            return null;
        }

        return new ArchiveEncoding(pgName, dotnet is null ? Encoding.Latin1 : Encoding.GetEncoding(dotnet));
    }

    /// <summary>Decodes bytes; returns false (and a Latin-1 rendering) when they do not round-trip.</summary>
    public bool TryDecode(byte[] bytes, out string text)
    {
        // Invalid bytes decode to replacement characters, which then do not encode back to the same bytes.
        text = Encoding.GetString(bytes);
        if (Encoding.GetBytes(text).AsSpan().SequenceEqual(bytes))
        {
            return true;
        }

        text = Encoding.Latin1.GetString(bytes);
        return false;
    }
}
