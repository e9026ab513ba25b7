using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>pg_restore.c (18)'s derived dumpData, dumpSchema and dumpStatistics for each "-only", "no-" and --statistics option.</summary>
public sealed class SelectionOptionsTests
{
    public static TheoryData<string, bool, bool, bool> Cases() => new()
    {
        // option, data, schema, statistics
        { "", true, true, true },
        { "-a", true, false, false },
        { "-s", false, true, false },
        { "--statistics-only", false, false, true },
        { "--no-data", false, true, true },
        { "--no-schema", true, false, true },
        { "--no-statistics", true, true, false },
        { "--statistics", true, true, true },
        { "--no-data --no-schema", false, false, true },
        { "--statistics-only --statistics", false, false, true },
        { "-a --no-statistics", true, false, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DerivedFlagsFollowPgRestore18(string options, bool data, bool schema, bool statistics)
    {
        var o = SelectionOptions.Default;
        foreach (string option in options.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            o = option switch
            {
                "-a" => o with { DataOnly = true },
                "-s" => o with { SchemaOnly = true },
                "--statistics-only" => o with { StatisticsOnly = true },
                "--no-data" => o with { NoData = true },
                "--no-schema" => o with { NoSchema = true },
                "--no-statistics" => o with { NoStatistics = true },
                "--statistics" => o with { Statistics = true },
                _ => throw new ArgumentException(option),
            };
        }

        Assert.Equal((data, schema, statistics), (o.DumpData, o.DumpSchema, o.DumpStatistics));
    }
}
