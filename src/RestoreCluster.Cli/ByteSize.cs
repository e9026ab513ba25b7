using System.Globalization;

namespace RestoreCluster.Cli;

/// <summary>
/// A size given on the command line, in PostgreSQL's memory units: a number of bytes, or a number followed by
/// <c>B</c>, <c>kB</c>, <c>MB</c>, <c>GB</c> or <c>TB</c> (multiples of 1024; case does not matter, a space may
/// separate them).
/// </summary>
internal static class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units =
        [("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1)];

    /// <summary>The size in bytes (at least 1); a usage error naming <paramref name="option"/> otherwise.</summary>
    public static long Parse(string text, string option)
    {
        string t = text.Trim();
        long factor = 1;
        foreach (var (unit, f) in Units)
        {
            if (t.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
            {
                t = t[..^unit.Length].TrimEnd();
                factor = f;
                break;
            }
        }

        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number) || number <= 0
            || number * factor > long.MaxValue || number * factor < 1)
        {
            throw new CliError($"invalid size \"{text}\" for {option}: give bytes or a number with kB, MB, GB or TB", ExitCodes.Usage);
        }

        return (long)(number * factor);
    }

    /// <summary>A size for people: <c>64 MB</c>, <c>1.5 GB</c>, <c>512 B</c>.</summary>
    public static string Format(long bytes)
    {
        foreach (var (unit, factor) in Units)
        {
            if (bytes >= factor && factor > 1)
            {
                string name = unit == "KB" ? "kB" : unit;
                return string.Create(CultureInfo.InvariantCulture, $"{(double)bytes / factor:0.#} {name}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
    }
}
