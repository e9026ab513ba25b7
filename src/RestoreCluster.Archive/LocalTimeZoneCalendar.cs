namespace RestoreCluster.Archive;

/// <summary>Proleptic Gregorian calendar arithmetic on 64-bit day numbers (day 0 = 1970-01-01).</summary>
internal static class LocalTimeZoneCalendar
{
    private static readonly int[] DaysBefore = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

    public static bool IsLeap(long year) => FloorMod(year, 4) == 0 && (FloorMod(year, 100) != 0 || FloorMod(year, 400) == 0);

    /// <summary>Days in <paramref name="year"/> before the first of month <paramref name="month0"/> (0-11).</summary>
    public static int DaysBeforeMonth(long year, int month0) => DaysBefore[month0] + (month0 > 1 && IsLeap(year) ? 1 : 0);

    public static long FloorDiv(long a, long b) => (a / b) - (((a % b) != 0 && ((a < 0) != (b < 0))) ? 1 : 0);

    public static long FloorMod(long a, long b) => a - (FloorDiv(a, b) * b);

    /// <summary>Day number of year-month-day (month 1-12); valid for any year a long can hold without overflow.</summary>
    public static long DaysFromCivil(long year, int month, int day)
    {
        // Count in 400-year cycles starting on 1 March 0000, so the leap day is the last day of a "year".
        var y = month <= 2 ? year - 1 : year;
        var cycle = FloorDiv(y, 400);
        var yearOfCycle = y - (cycle * 400);
        var shiftedMonth = month > 2 ? month - 3 : month + 9;
        var dayOfYear = (((153 * shiftedMonth) + 2) / 5) + day - 1;
        var dayOfCycle = (yearOfCycle * 365) + (yearOfCycle / 4) - (yearOfCycle / 100) + dayOfYear;
        return (cycle * 146097) + dayOfCycle - 719468;
    }

    /// <summary>The calendar date of a day number.</summary>
    public static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        var z = days + 719468;
        var cycle = FloorDiv(z, 146097);
        var dayOfCycle = z - (cycle * 146097);
        var yearOfCycle = (dayOfCycle - (dayOfCycle / 1460) + (dayOfCycle / 36524) - (dayOfCycle / 146096)) / 365;
        var dayOfYear = dayOfCycle - ((365 * yearOfCycle) + (yearOfCycle / 4) - (yearOfCycle / 100));
        var shiftedMonth = ((5 * dayOfYear) + 2) / 153;
        var day = (int)(dayOfYear - (((153 * shiftedMonth) + 2) / 5) + 1);
        var month = (int)(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9);
        var year = yearOfCycle + (cycle * 400) + (month <= 2 ? 1 : 0);
        return (year, month, day);
    }
}
