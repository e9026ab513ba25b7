using System.Globalization;

namespace RestoreCluster.Archive;

/// <summary>
/// The process's local time zone as glibc determines it from <c>TZ</c>, with glibc-compatible <c>mktime</c>,
/// <c>localtime</c> and the <c>strftime("%Y-%m-%d %H:%M:%S %Z")</c> that pg_restore uses for
/// "; Archive created at ...". Leap-second ("right/") zone files are read without their leap corrections.
/// </summary>
internal sealed partial class LocalTimeZone
{
    private const string DefaultZoneDirectory = "/usr/share/zoneinfo";
    private const string DefaultLocalTime = "/etc/localtime";

    // glibc's mktime heuristic when the found time has the wrong tm_isdst: probe neighbours this far apart,
    // up to half the longest run of one DST flavour plus one stride in each direction.
    private const long Stride = 601200;
    private const long ProbeBound = (457243200 / 2) + Stride;

    private readonly TzifReader? _file;
    private readonly PosixTzRule? _footer;
    private readonly PosixTzRule _rule;

    private LocalTimeZone(TzifReader? file, PosixTzRule rule)
    {
        _file = file;
        _rule = rule;
        _footer = file?.Footer is { } footer ? PosixTzRule.Parse(footer) : null;
    }

    /// <summary>A broken-down local time (tm fields, with the full year and a 1-based month).</summary>
    internal readonly record struct Broken(
        long Year, int Month, int Day, int Hour, int Minute, int Second, long YearDay, bool IsDst, int Offset, string Abbreviation);

    /// <summary>The zone this process uses: TZ and TZDIR read as glibc's tzset does.</summary>
    public static LocalTimeZone FromEnvironment() =>
        FromTzValue(Environment.GetEnvironmentVariable("TZ"), Environment.GetEnvironmentVariable("TZDIR"));

    /// <summary>The zone glibc would use were TZ set to <paramref name="tz"/> (null: unset).</summary>
    public static LocalTimeZone FromTzValue(string? tz) => FromTzValue(tz, Environment.GetEnvironmentVariable("TZDIR"));

    internal static LocalTimeZone FromTzValue(string? tz, string? tzDirectory)
    {
        if (tz is { Length: 0 })
        {
            tz = "Universal";
        }

        if (tz is not null && tz.StartsWith(':'))
        {
            tz = tz[1..];
        }

        var directory = string.IsNullOrEmpty(tzDirectory) ? DefaultZoneDirectory : tzDirectory;
        var fileName = tz ?? DefaultLocalTime;
        if (fileName.Length > 0)
        {
            var file = TzifReader.TryLoad(fileName[0] == '/' ? fileName : directory + "/" + fileName);
            if (file is not null)
            {
                return new LocalTimeZone(file, PosixTzRule.Utc("UTC"));
            }
        }

        if (string.IsNullOrEmpty(tz) || tz == DefaultLocalTime)
        {
            return new LocalTimeZone(null, PosixTzRule.Utc("UTC"));
        }

        var rule = PosixTzRule.Parse(tz);
        if (rule.WantsDefaultRules
            && TzifReader.TryLoad(directory + "/posixrules")?.WithUserOffsets(rule.StdName, rule.DstName, rule.StdOffset, rule.DstOffset)
                is { } defaults)
        {
            return new LocalTimeZone(defaults, rule);
        }

        return new LocalTimeZone(null, rule);
    }

    /// <summary>localtime(): the wall-clock time, zone abbreviation, DST flag and UTC offset at an instant.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The local year is outside 1-9999.</exception>
    public (DateTime wall, string abbreviation, bool isDst, int utcOffsetSeconds) ToLocal(long unixSeconds)
    {
        if (!TryConvert(unixSeconds, out var b) || b.Year is < 1 or > 9999)
        {
            throw new ArgumentOutOfRangeException(nameof(unixSeconds), unixSeconds, "The local time is outside the years 1-9999.");
        }

        var wall = new DateTime((int)b.Year, b.Month, b.Day, b.Hour, b.Minute, b.Second, DateTimeKind.Unspecified);
        return (wall, b.Abbreviation, b.IsDst, b.Offset);
    }

    /// <summary>
    /// What pg_restore prints after "Archive created at ": mktime() of the header's struct tm fields, then
    /// strftime("%Y-%m-%d %H:%M:%S %Z", localtime()). Like pg_restore, a failed mktime (-1) is formatted as the
    /// instant -1; "[unknown]" is returned only if even that cannot be converted.
    /// </summary>
    public string FormatArchiveTimestamp(int sec, int min, int hour, int mday, int mon0, int year1900, int isdst)
    {
        var t = MakeTime(year1900, mon0, mday, hour, min, sec, isdst) ?? -1;
        return TryConvert(t, out var b) ? Format(b) : "[unknown]";
    }

    // %Y is tm_year + 1900 in C int arithmetic, so it wraps for tm_year above INT_MAX - 1900.
    internal static string Format(in Broken b) => string.Create(
        CultureInfo.InvariantCulture, $"{unchecked((int)b.Year)}-{b.Month:00}-{b.Day:00} {b.Hour:00}:{b.Minute:00}:{b.Second:00} {b.Abbreviation}");

    /// <summary>localtime_r(); false where glibc fails (the local year does not fit tm_year).</summary>
    internal bool TryConvert(long t, out Broken result)
    {
        if (_file is null && UtcYear(t) - 1900 is < int.MinValue or > int.MaxValue)
        {
            result = default;
            return false;
        }

        var (offset, isDst, name) = Lookup(t);
        var days = LocalTimeZoneCalendar.FloorDiv(t, 86400);
        var seconds = LocalTimeZoneCalendar.FloorMod(t, 86400) + offset;
        days += LocalTimeZoneCalendar.FloorDiv(seconds, 86400);
        seconds = LocalTimeZoneCalendar.FloorMod(seconds, 86400);
        var (year, month, day) = LocalTimeZoneCalendar.CivilFromDays(days);
        if (year - 1900 is < int.MinValue or > int.MaxValue)
        {
            result = default;
            return false;
        }

        var yearDay = days - LocalTimeZoneCalendar.DaysFromCivil(year, 1, 1);
        result = new Broken(year, month, day, (int)(seconds / 3600), (int)(seconds / 60 % 60), (int)(seconds % 60), yearDay, isDst, offset, name);
        return true;
    }

    private (int Offset, bool IsDst, string Name) Lookup(long t)
    {
        if (_file is null)
        {
            return _rule.Evaluate(t, UtcYear(t));
        }

        var transitions = _file.Transitions;
        var types = _file.Types;
        int typeIndex;
        if (transitions.Length == 0 || t < transitions[0])
        {
            // Before the first transition glibc uses the first standard-time type.
            typeIndex = Array.FindIndex(types, x => !x.IsDst);
            typeIndex = typeIndex < 0 ? 0 : typeIndex;
        }
        else if (t >= transitions[^1])
        {
            var year = UtcYear(t);
            if (_footer is not null && year - 1900 is >= int.MinValue and <= int.MaxValue)
            {
                return _footer.Evaluate(t, year);
            }

            typeIndex = _file.TransitionTypes[^1];
        }
        else
        {
            var i = Array.BinarySearch(transitions, t);
            i = i >= 0 ? i : ~i - 1;
            typeIndex = _file.TransitionTypes[i];
        }

        var type = types[typeIndex];
        return (type.UtcOffset, type.IsDst, type.Abbreviation);
    }

    private static long UtcYear(long t) => LocalTimeZoneCalendar.CivilFromDays(LocalTimeZoneCalendar.FloorDiv(t, 86400)).Year;
}
