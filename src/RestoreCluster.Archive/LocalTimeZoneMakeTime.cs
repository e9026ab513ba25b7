namespace RestoreCluster.Archive;

/// <summary>mktime() with glibc's semantics.</summary>
internal sealed partial class LocalTimeZone
{
    /// <summary>
    /// mktime() as the first call in a glibc process makes it: the fields are normalised (month 12 is January of
    /// the next year, mday 0 the last day of the previous month, second 60 the next minute), the wall time is
    /// found by probing localtime() from an initial guess of UTC, a time in a spring-forward gap or an
    /// ambiguous fall-back time is resolved the way glibc's probing resolves it, and an <paramref name="isDst"/>
    /// hint that disagrees with the zone is honoured by borrowing the offset of a nearby instant with the
    /// requested flag (or one hour). Returns null where mktime returns -1 with an error.
    /// </summary>
    public long? MakeTime(int year1900, int month0, int mday, int hour, int minute, int second, int isDst)
    {
        var monthYears = LocalTimeZoneCalendar.FloorDiv(month0, 12);
        var month = (int)LocalTimeZoneCalendar.FloorMod(month0, 12);
        var year = (long)year1900 + monthYears;
        var yearDay = LocalTimeZoneCalendar.DaysBeforeMonth(year + 1900, month) - 1L + mday;

        // Out-of-range seconds are added back at the end, as a minute does not always have 60 seconds.
        var sec = Math.Clamp(second, 0, 59);
        var target = Seconds(year, yearDay, hour, minute, sec);

        long t = target, t1 = target, t2 = target;
        var previousDst = false;
        var probes = 6;
        Broken tm;
        while (true)
        {
            if (!TryRangedConvert(ref t, out tm))
            {
                return null;
            }

            var dt = target - Seconds(tm);
            if (dt == 0)
            {
                break;
            }

            // Oscillating between two instants: the wall time is in a gap. glibc settles on the current probe
            // when its flag differs from the hint, or (no hint) when the previous probe was standard time.
            if (t == t1 && t != t2 && (isDst < 0 ? !previousDst : (isDst != 0) != tm.IsDst))
            {
                return Finish(t, tm, sec, second);
            }

            if (--probes == 0)
            {
                return null;
            }

            (t1, t2, t, previousDst) = (t2, t, t + dt, tm.IsDst);
        }

        if (isDst >= 0 && (isDst != 0) != tm.IsDst)
        {
            // Look for the nearest instant (alternating earlier/later) with the requested flag, use its offset.
            for (var delta = Stride; delta < ProbeBound; delta += Stride)
            {
                for (var direction = -1; direction <= 1; direction += 2)
                {
                    var other = t + (delta * direction);
                    if (!TryRangedConvert(ref other, out var otherTm))
                    {
                        return null;
                    }

                    if (otherTm.IsDst == (isDst != 0))
                    {
                        var guess = other + (target - Seconds(otherTm));
                        if (TryConvert(guess, out var guessTm))
                        {
                            return Finish(guess, guessTm, sec, second);
                        }
                    }
                }
            }

            t += 3600 * ((isDst == 0 ? 1 : 0) - (tm.IsDst ? 0 : 1));
            return TryConvert(t, out tm) ? Finish(t, tm, sec, second) : null;
        }

        return Finish(t, tm, sec, second);
    }

    private long? Finish(long t, in Broken tm, int clampedSecond, int requestedSecond)
    {
        if (requestedSecond == tm.Second)
        {
            return t;
        }

        t += (clampedSecond == 0 && tm.Second == 60 ? 1 : 0) - clampedSecond + requestedSecond;
        return TryConvert(t, out _) ? t : null;
    }

    private static long Seconds(long year1900, long yearDay, long hour, long minute, long second) =>
        ((LocalTimeZoneCalendar.DaysFromCivil(year1900 + 1900, 1, 1) + yearDay) * 86400) + (hour * 3600) + (minute * 60) + second;

    private static long Seconds(in Broken tm) => Seconds(tm.Year - 1900, tm.YearDay, tm.Hour, tm.Minute, tm.Second);

    // localtime() of t, or if that overflows, of the convertible instant nearest t on the way to 0.
    private bool TryRangedConvert(ref long t, out Broken tm)
    {
        if (TryConvert(t, out tm))
        {
            return true;
        }

        long bad = t, ok = 0;
        var found = false;
        var okTm = default(Broken);
        while (true)
        {
            var mid = (ok >> 1) + (bad >> 1) + (ok & bad & 1);
            if (mid == ok || mid == bad)
            {
                break;
            }

            if (TryConvert(mid, out var midTm))
            {
                (ok, okTm, found) = (mid, midTm, true);
            }
            else
            {
                bad = mid;
            }
        }

        (t, tm) = (ok, okTm);
        return found;
    }
}
