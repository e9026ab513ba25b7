using System.Diagnostics;
using System.Globalization;
using System.Text;
using RestoreCluster.Archive;
using Xunit;

namespace RestoreCluster.Archive.Tests;

/// <summary>
/// Compares <see cref="LocalTimeZone"/> with the C library: a small C program (compiled with gcc on first use)
/// calls glibc's mktime, localtime and strftime. Every case runs in a freshly forked child with TZ set, because
/// glibc's mktime remembers the offset of its previous call as its next first guess, and pg_restore calls it
/// once per process.
/// </summary>
public sealed class LocalTimeZoneTests
{
    private const string Unset = "(unset)";

    // Reads "zone<TAB>M year1900 mon0 mday hour min sec isdst" or "zone<TAB>L t" lines; each runs in a fork.
    private const string OracleSource = """
        #define _GNU_SOURCE
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include <unistd.h>
        #include <sys/wait.h>

        static void run(char *line)
        {
            char *rest = strchr(line, '\t');
            *rest++ = '\0';
            if (strcmp(line, "(unset)") == 0) unsetenv("TZ"); else setenv("TZ", line, 1);
            tzset();
            char ts[32], stamp[256];
            time_t t;
            if (rest[0] == 'M') {
                struct tm tm;
                memset(&tm, 0, sizeof tm);
                sscanf(rest + 2, "%d %d %d %d %d %d %d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tm.tm_isdst);
                tm.tm_wday = -1;
                t = mktime(&tm);
                if (t == (time_t)-1 && tm.tm_wday == -1) strcpy(ts, "ERR"); else snprintf(ts, sizeof ts, "%lld", (long long)t);
            } else {
                long long v;
                sscanf(rest + 2, "%lld", &v);
                t = (time_t)v;
                snprintf(ts, sizeof ts, "%lld", v);
            }
            struct tm *lt = localtime(&t);
            if (lt == NULL || strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S %Z", lt) == 0) strcpy(stamp, "[unknown]");
            char out[512];
            int n = snprintf(out, sizeof out, "%s\t%s\t%d\t%ld\n", ts, stamp, lt ? lt->tm_isdst : 0, lt ? lt->tm_gmtoff : 0L);
            if (write(1, out, n) != n) _exit(1);
        }

        int main(void)
        {
            static char line[4096];
            while (fgets(line, sizeof line, stdin)) {
                line[strcspn(line, "\n")] = '\0';
                pid_t pid = fork();
                if (pid == 0) { run(line); _exit(0); }
                waitpid(pid, NULL, 0);
            }
            return 0;
        }
        """;

    private static readonly Lazy<string> OracleBinary = new(CompileOracle);

    public static TheoryData<string> Zones => new()
    {
        "UTC", Unset, "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo",
        "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3", "<+03>-3", ":Europe/Paris", "",
    };

    public static TheoryData<string> OddZones => new()
    {
        "UTC0", ":", "XYZ", "AAA3BBB", "EST5EDT,foo", "<-0330>3:30<-0230>,J60/-1,300/26:30", "NZST-12NZDT,M9.5.0,M4.1.0/3",
        "Europe/Moscow", "Pacific/Apia", "Africa/Casablanca", "Europe/Dublin", "Antarctica/Troll", "/usr/share/zoneinfo/Asia/Tokyo",
    };

    [Theory]
    [MemberData(nameof(Zones))]
    [MemberData(nameof(OddZones))]
    public void Archive_timestamps_for_chosen_dates_match_glibc(string zone)
    {
        var zoneUnderTest = Zone(zone);
        var cases = new List<int[]>();
        foreach (var isdst in new[] { -1, 0, 1 })
        {
            foreach (var year in new[] { 1900, 1950, 1985, 1999, 2026, 2037, 2038, 2100, 2400 })
            {
                cases.Add([year - 1900, 0, 15, 12, 0, 0, isdst]); // winter (north)
                cases.Add([year - 1900, 6, 15, 12, 0, 0, isdst]); // summer (north)
            }

            cases.Add([126, 10, 23, 20, 3, 25, isdst]);
            cases.Add([69, 11, 31, 23, 59, 59, isdst]);
            cases.Add([70, 0, 1, 0, 0, 0, isdst]);

            // Out-of-range fields that mktime normalises.
            cases.Add([126, 12, 0, 24, 0, 60, isdst]);
            cases.Add([126, -1, 31, -1, 61, -1, isdst]);
            cases.Add([126, 1, 29, 23, 59, 60, isdst]);
            cases.Add([100, 25, 400, 100, -3000, 200000, isdst]);

            // Years at the edge of tm_year: mktime fails and pg_restore prints the instant -1.
            cases.Add([int.MaxValue, 12, 1, 0, 0, 0, isdst]);
            cases.Add([int.MaxValue, 11, 31, 23, 59, 59, isdst]);
            cases.Add([int.MinValue, -1, 1, 0, 0, 0, isdst]);
            cases.Add([int.MinValue, 0, 1, 0, 0, 0, isdst]);

            // Wall times around every transition of 2025-2027 (spring-forward gaps and fall-back overlaps).
            foreach (var wall in WallTimesAroundTransitions(zoneUnderTest, 2025, 2027))
            {
                cases.Add([wall.Year - 1900, wall.Month - 1, wall.Day, wall.Hour, wall.Minute, wall.Second, isdst]);
            }
        }

        AssertMatchesGlibc(zone, zoneUnderTest, cases);
    }

    [Theory]
    [MemberData(nameof(Zones))]
    [MemberData(nameof(OddZones))]
    public void Local_time_of_instants_matches_glibc_localtime(string zone)
    {
        var zoneUnderTest = Zone(zone);
        var instants = new List<long> { -1, 0, 1_000_000_000, 2_147_483_647, 2_147_483_648, 4_102_444_800, -2_208_988_800, -5_000_000_000 };
        var random = new Random(5);
        for (var i = 0; i < 150; i++)
        {
            instants.Add(random.NextInt64(-4_000_000_000, 8_000_000_000));
        }

        var expected = RunOracle(zone, instants.Select(t => "L " + t.ToString(CultureInfo.InvariantCulture)));
        var failures = new List<string>();
        for (var i = 0; i < instants.Count; i++)
        {
            var (wall, abbreviation, isDst, offset) = zoneUnderTest.ToLocal(instants[i]);
            var actual = string.Create(CultureInfo.InvariantCulture, $"{wall:yyyy-MM-dd HH:mm:ss} {abbreviation}\t{(isDst ? 1 : 0)}\t{offset}");
            var wanted = string.Join('\t', expected[i].Split('\t')[1..]);
            if (actual != wanted)
            {
                failures.Add($"t={instants[i]}: expected {wanted}, got {actual}");
            }
        }

        Assert.True(failures.Count == 0, $"{zone}: {failures.Count} mismatches\n" + string.Join('\n', failures.Take(20)));
    }

    [Theory]
    [MemberData(nameof(Zones))]
    [MemberData(nameof(OddZones))]
    public void Random_header_fields_give_the_same_timestamp_as_glibc(string zone)
    {
        var random = new Random(20261123 + zone.Length);
        var cases = new List<int[]>();
        for (var i = 0; i < 60; i++)
        {
            var odd = random.Next(4) == 0;
            cases.Add([
                random.Next(0, 250),
                odd ? random.Next(-14, 26) : random.Next(0, 12),
                odd ? random.Next(-31, 64) : random.Next(1, 32),
                odd ? random.Next(-30, 50) : random.Next(0, 24),
                odd ? random.Next(-100, 160) : random.Next(0, 60),
                odd ? random.Next(-100, 160) : random.Next(0, 61),
                random.Next(-1, 2),
            ]);
        }

        AssertMatchesGlibc(zone, Zone(zone), cases);
    }

    [Fact]
    public void Known_timestamps_are_printed_like_pg_restore()
    {
        Assert.Equal("2026-11-23 20:03:25 UTC", Zone("UTC").FormatArchiveTimestamp(25, 3, 20, 23, 10, 126, 0));
        Assert.Equal("2026-11-23 20:03:25 CET", Zone("Europe/Berlin").FormatArchiveTimestamp(25, 3, 20, 23, 10, 126, 0));
        Assert.Equal("2026-07-01 12:00:00 CEST", Zone("CET-1CEST,M3.5.0,M10.5.0/3").FormatArchiveTimestamp(0, 0, 12, 1, 6, 126, 1));
        Assert.Equal("2026-07-01 12:00:00 +03", Zone("<+03>-3").FormatArchiveTimestamp(0, 0, 12, 1, 6, 126, 0));
        Assert.Equal("2026-03-08 03:30:00 EDT", Zone("America/New_York").FormatArchiveTimestamp(0, 30, 2, 8, 2, 126, -1));
        Assert.Equal("2026-11-01 01:30:00 EST", Zone("America/New_York").FormatArchiveTimestamp(0, 30, 1, 1, 10, 126, 0));
        Assert.Equal("2026-11-01 01:30:00 EDT", Zone("America/New_York").FormatArchiveTimestamp(0, 30, 1, 1, 10, 126, 1));
    }

    [Fact]
    public void An_impossible_date_is_printed_as_the_instant_before_the_epoch_as_pg_restore_does()
    {
        var zone = Zone("Europe/Berlin");
        Assert.Null(zone.MakeTime(int.MaxValue, 12, 1, 0, 0, 0, 0));
        Assert.Equal("1970-01-01 00:59:59 CET", zone.FormatArchiveTimestamp(0, 0, 0, 1, 12, int.MaxValue, 0));
    }

    [Fact]
    public void From_environment_reads_the_TZ_variable_of_this_process()
    {
        var fromTz = Zone(Environment.GetEnvironmentVariable("TZ") ?? Unset);
        Assert.Equal(
            fromTz.FormatArchiveTimestamp(25, 3, 20, 23, 10, 126, -1),
            LocalTimeZone.FromEnvironment().FormatArchiveTimestamp(25, 3, 20, 23, 10, 126, -1));
    }

    private static LocalTimeZone Zone(string zone) => LocalTimeZone.FromTzValue(zone == Unset ? null : zone);

    private static void AssertMatchesGlibc(string zone, LocalTimeZone zoneUnderTest, List<int[]> cases)
    {
        var expected = RunOracle(zone, cases.Select(c => "M " + string.Join(' ', c)));
        var failures = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var t = zoneUnderTest.MakeTime(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
            var actual = (t?.ToString(CultureInfo.InvariantCulture) ?? "ERR") + "\t" + zoneUnderTest.FormatArchiveTimestamp(c[5], c[4], c[3], c[2], c[1], c[0], c[6]);
            var wanted = string.Join('\t', expected[i].Split('\t')[..2]);
            if (actual != wanted)
            {
                failures.Add($"[{string.Join(',', c)}]: expected {wanted}, got {actual}");
            }
        }

        Assert.True(failures.Count == 0, $"{zone}: {failures.Count} of {cases.Count} mismatch\n" + string.Join('\n', failures.Take(25)));
    }

    private static IEnumerable<DateTime> WallTimesAroundTransitions(LocalTimeZone zone, int fromYear, int toYear)
    {
        var start = new DateTimeOffset(fromYear, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        var end = new DateTimeOffset(toYear + 1, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        for (var t = start; t < end; t += 3 * 3600)
        {
            if (zone.ToLocal(t).utcOffsetSeconds == zone.ToLocal(t + (3 * 3600)).utcOffsetSeconds)
            {
                continue;
            }

            long lo = t, hi = t + (3 * 3600); // offset(lo) != offset(hi): find the transition instant hi
            while (hi - lo > 1)
            {
                var mid = lo + ((hi - lo) / 2);
                (lo, hi) = zone.ToLocal(mid).utcOffsetSeconds == zone.ToLocal(lo).utcOffsetSeconds ? (mid, hi) : (lo, mid);
            }

            var wallBefore = zone.ToLocal(lo).wall.AddSeconds(1);
            foreach (var minutes in new[] { -90, -61, -30, -1, 0, 1, 15, 29, 30, 31, 45, 59, 60, 61, 90, 121 })
            {
                yield return wallBefore.AddMinutes(minutes);
            }
        }
    }

    private static string[] RunOracle(string zone, IEnumerable<string> lines)
    {
        var info = new ProcessStartInfo(OracleBinary.Value)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        info.Environment.Remove("TZ");
        var input = lines.Select(line => zone + "\t" + line).ToList();
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(string.Join('\n', input) + "\n");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "the oracle failed: " + stderr.Result);
        var result = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(input.Count, result.Length);
        return result;
    }

    private static string CompileOracle()
    {
        var directory = Directory.CreateTempSubdirectory("tz-oracle-").FullName;
        var source = Path.Combine(directory, "oracle.c");
        var binary = Path.Combine(directory, "oracle");
        File.WriteAllText(source, OracleSource);
        var info = new ProcessStartInfo("gcc") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-O1", "-o", binary, source })
        {
            info.ArgumentList.Add(arg);
        }

        using var gcc = Process.Start(info)!;
        var errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.True(gcc.ExitCode == 0, "gcc failed: " + errors);
        return binary;
    }
}
