namespace RestoreCluster.Archive;

/// <summary>
/// A POSIX TZ string (tzset(3)): <c>std offset [dst [offset] [,start[/time],end[/time]]]</c>, evaluated the way
/// glibc does: the names may be quoted (<c>&lt;+03&gt;</c>), offsets are hh[:mm[:ss]] west of UTC (hours capped at
/// 24), the DST offset defaults to one hour ahead, rule dates are <c>Jn</c>, <c>n</c> or <c>Mm.w.d</c> with an
/// optional (possibly negative or beyond 24h) time of day, and the US rules are the default.
/// A string that does not parse leaves the zone at UTC, named after whatever part did parse.
/// </summary>
internal sealed class PosixTzRule
{
    private enum DateKind
    {
        ZeroBasedDay, // n
        JulianDay, // Jn
        MonthWeekDay, // Mm.w.d
    }

    private readonly Change _start = new(); // into DST, given in standard time
    private readonly Change _end = new(); // out of DST, given in daylight time

    private PosixTzRule()
    {
    }

    public string StdName { get; private set; } = "";

    public string DstName { get; private set; } = "";

    /// <summary>Seconds east of UTC.</summary>
    public int StdOffset { get; private set; }

    /// <summary>Seconds east of UTC.</summary>
    public int DstOffset { get; private set; }

    /// <summary>True when a DST name was given but no rule followed (glibc then tries the posixrules file).</summary>
    public bool WantsDefaultRules { get; private set; }

    public static PosixTzRule Utc(string name) => new() { StdName = name, DstName = name };

    public static PosixTzRule Parse(string tz)
    {
        var r = new PosixTzRule();
        var p = 0;
        if (!r.TryName(tz, ref p, dst: false) || !r.TryOffset(tz, ref p, dst: false))
        {
            return r;
        }

        if (p >= tz.Length)
        {
            r.DstName = r.StdName;
            r.DstOffset = r.StdOffset;
            return r;
        }

        if (r.TryName(tz, ref p, dst: true))
        {
            r.TryOffset(tz, ref p, dst: true);
            r.WantsDefaultRules = p >= tz.Length || (tz[p] == ',' && p + 1 == tz.Length);
        }

        if (TryRule(tz, ref p, r._start, first: true))
        {
            TryRule(tz, ref p, r._end, first: false);
        }

        return r;
    }

    /// <summary>The offset, DST flag and name in effect at <paramref name="utc"/>, whose UTC calendar year is given.</summary>
    public (int Offset, bool IsDst, string Name) Evaluate(long utc, long utcYear)
    {
        var year = (int)utcYear;
        var start = _start.InstantFor(year, StdOffset);
        var end = _end.InstantFor(year, DstOffset);
        var isDst = start > end ? utc < end || utc >= start : utc >= start && utc < end;
        return isDst ? (DstOffset, true, DstName) : (StdOffset, false, StdName);
    }

    private static bool IsAlpha(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private bool TryName(string s, ref int p, bool dst)
    {
        var q = p;
        while (q < s.Length && IsAlpha(s[q]))
        {
            q++;
        }

        var (from, length, next) = (p, q - p, q);
        if (length < 3)
        {
            q = p;
            if (q >= s.Length || s[q] != '<')
            {
                return false;
            }

            from = ++q;
            while (q < s.Length && (IsAlpha(s[q]) || IsDigit(s[q]) || s[q] == '+' || s[q] == '-'))
            {
                q++;
            }

            length = q - from;
            if (q >= s.Length || s[q] != '>' || length < 3)
            {
                return false;
            }

            next = q + 1;
        }

        var name = s.Substring(from, length);
        if (dst)
        {
            DstName = name;
        }
        else
        {
            StdName = name;
        }

        p = next;
        return true;
    }

    private bool TryOffset(string s, ref int p, bool dst)
    {
        if (!dst && (p >= s.Length || (s[p] != '+' && s[p] != '-' && !IsDigit(s[p]))))
        {
            return false;
        }

        var sign = -1;
        if (p < s.Length && (s[p] == '+' || s[p] == '-'))
        {
            sign = s[p] == '-' ? 1 : -1;
            p++;
        }

        if (!TryClock(s, ref p, out var h, out var m, out var sec))
        {
            if (dst)
            {
                DstOffset = StdOffset + 3600;
                return true;
            }

            StdOffset = 0;
            return false;
        }

        var value = sign * ((Math.Min(sec, 59) + (Math.Min(m, 59) * 60) + (Math.Min(h, 24) * 3600)));
        if (dst)
        {
            DstOffset = value;
        }
        else
        {
            StdOffset = value;
        }

        return true;
    }

    // hh[:mm[:ss]] with unsigned 16-bit fields; a ':' not followed by digits is left unconsumed.
    private static bool TryClock(string s, ref int p, out int h, out int m, out int sec)
    {
        h = m = sec = 0;
        if (!TryNumber(s, ref p, out h))
        {
            return false;
        }

        var q = p;
        if (q < s.Length && s[q] == ':' && TryNumber(s, ref q, out m, skip: 1))
        {
            p = q;
            if (q < s.Length && s[q] == ':' && TryNumber(s, ref q, out sec, skip: 1))
            {
                p = q;
            }
        }

        return true;
    }

    private static bool TryNumber(string s, ref int p, out int value, int skip = 0)
    {
        value = 0;
        var q = p + skip;
        var start = q;
        while (q < s.Length && IsDigit(s[q]))
        {
            value = (int)(((value * 10L) + (s[q] - '0')) & 0xFFFF);
            q++;
        }

        if (q == start)
        {
            return false;
        }

        p = q;
        return true;
    }

    private static bool TryRule(string s, ref int p, Change c, bool first)
    {
        if (p < s.Length && s[p] == ',')
        {
            p++;
        }

        char At(int i) => i < s.Length ? s[i] : '\0';
        if (At(p) == 'J' || IsDigit(At(p)))
        {
            var julian = At(p) == 'J';
            c.Kind = julian ? DateKind.JulianDay : DateKind.ZeroBasedDay;
            if (julian && !IsDigit(At(++p)))
            {
                return false;
            }

            var start = p;
            long d = 0;
            while (IsDigit(At(p)) && d <= 366)
            {
                d = (d * 10) + (s[p++] - '0');
            }

            while (IsDigit(At(p)))
            {
                p++;
            }

            if (p == start || d > 365 || (julian && d == 0))
            {
                return false;
            }

            c.Day = (int)d;
        }
        else if (At(p) == 'M')
        {
            var q = p + 1;
            if (!TryNumber(s, ref q, out var month) || At(q) != '.' || !TryNumber(s, ref q, out var week, skip: 1)
                || At(q) != '.' || !TryNumber(s, ref q, out var weekday, skip: 1)
                || month is < 1 or > 12 || week is < 1 or > 5 || weekday > 6)
            {
                return false;
            }

            (c.Kind, c.Month, c.Week, c.Day) = (DateKind.MonthWeekDay, month, week, weekday);
            p = q;
        }
        else if (At(p) == '\0')
        {
            // The US rules (second Sunday of March, first Sunday of November) at 02:00.
            (c.Kind, c.Month, c.Week, c.Day) = (DateKind.MonthWeekDay, first ? 3 : 11, first ? 2 : 1, 0);
        }
        else
        {
            return false;
        }

        if (At(p) != '\0' && At(p) != '/' && At(p) != ',')
        {
            return false;
        }

        if (At(p) != '/')
        {
            c.Seconds = 7200;
        }
        else
        {
            p++;
            if (At(p) == '\0')
            {
                return false;
            }

            var negative = At(p) == '-';
            if (negative)
            {
                p++;
            }

            var q = p;
            if (!TryClock(s, ref q, out var h, out var m, out var sec))
            {
                (h, m, sec) = (2, 0, 0);
            }

            p = q;
            c.Seconds = (negative ? -1 : 1) * ((h * 3600) + (m * 60) + sec);
        }

        return true;
    }

    private sealed class Change
    {
        private static readonly int[] DaysBefore = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

        public DateKind Kind { get; set; } = DateKind.ZeroBasedDay;

        public int Day { get; set; }

        public int Month { get; set; }

        public int Week { get; set; }

        public int Seconds { get; set; }

        /// <summary>The UTC instant of this change in <paramref name="year"/>, given the offset in force before it.</summary>
        public long InstantFor(int year, int offsetBefore)
        {
            var leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

            // glibc counts from 1 January of the year, but from 1970 for any year up to 1970.
            long t = year > 1970 ? LocalTimeZoneCalendar.DaysFromCivil(year, 1, 1) * 86400L : 0;
            switch (Kind)
            {
                case DateKind.JulianDay:
                    t += (Day - 1) * 86400L;
                    if (Day >= 60 && leap)
                    {
                        t += 86400;
                    }

                    break;
                case DateKind.ZeroBasedDay:
                    t += Day * 86400L;
                    break;
                default:
                    var before = DaysBefore[Month - 1] + (leap && Month > 2 ? 1 : 0);
                    var monthLength = DaysBefore[Month] - DaysBefore[Month - 1] + (leap && Month == 2 ? 1 : 0);
                    t += before * 86400L;

                    // Weekday of the first of the month (Zeller's congruence, truncating as C does).
                    var m1 = ((Month + 9) % 12) + 1;
                    var yy0 = Month <= 2 ? year - 1 : year;
                    var century = yy0 / 100;
                    var yy = yy0 % 100;
                    var dow = ((((26 * m1) - 2) / 10) + 1 + yy + (yy / 4) + (century / 4) - (2 * century)) % 7;
                    if (dow < 0)
                    {
                        dow += 7;
                    }

                    var d = Day - dow;
                    if (d < 0)
                    {
                        d += 7;
                    }

                    for (var i = 1; i < Week && d + 7 < monthLength; i++)
                    {
                        d += 7;
                    }

                    t += d * 86400L;
                    break;
            }

            return t - offsetBefore + Seconds;
        }
    }
}
