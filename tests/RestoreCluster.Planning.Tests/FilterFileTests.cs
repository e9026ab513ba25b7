using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>
/// <c>--filter</c> files read as src/bin/pg_dump/filter.c reads them and applied as pg_restore.c's
/// read_restore_filters applies them: names, normalized patterns, and every error with its file and line.
/// </summary>
public sealed class FilterFileTests
{
    private static SelectionOptions Read(string text, string? file = "f.txt", SelectionOptions? start = null) =>
        FilterFile.Apply(new StringReader(text), file, start ?? SelectionOptions.Default);

    [Fact]
    public void EachIncludeAndExcludeLandsInTheListPgRestoreUses()
    {
        var s = Read("""
            # a comment, then an empty line

            include table customers
            INCLUDE TABLE orders
            include index customers_pkey
            include function app.f(integer)
            include trigger audit_trg
            include schema app
            exclude schema audit
              include   table   spaced   # trailing comment
            """);

        Assert.Equal(["customers", "orders", "spaced"], s.TableNames);
        Assert.Equal(["customers_pkey"], s.IndexNames);
        Assert.Equal(["app.f(integer)"], s.FunctionNames);
        Assert.Equal(["audit_trg"], s.TriggerNames);
        Assert.Equal(["app"], s.SchemaNames);
        Assert.Equal(["audit"], s.ExcludeSchemaNames);
        Assert.True(s.SelectsTypes);
    }

    [Fact]
    public void NamesComeAfterThoseGivenOnTheCommandLine()
    {
        var s = Read("include table b\n", start: new SelectionOptions { TableNames = ["a"] });

        Assert.Equal(["a", "b"], s.TableNames);
    }

    [Fact]
    public void PatternsAreNormalizedAsReadPatternDoesAndQuotesAreKept()
    {
        var s = Read("""
            include function  f ( integer ,  text )
            include table "My ""Big"" Table"
            include table app."x y"
            include table app . "x y"
            include table a b
            """);

        // Spaces go except one between words; ", " after commas; a quoted name keeps its quotes.
        Assert.Equal(["f(integer, text)"], s.FunctionNames);
        // A quoted part after a space keeps one space before it (read_pattern's found_space).
        Assert.Equal(["\"My \"\"Big\"\" Table\"", "app.\"x y\"", "app. \"x y\"", "a b"], s.TableNames);
    }

    [Fact]
    public void AQuotedNameMaySpanLines()
    {
        var s = Read("include table \"two\nlines\"\ninclude table after\n");

        Assert.Equal(["\"two\nlines\"", "after"], s.TableNames);
    }

    public static TheoryData<string, string> BadFilters() => new()
    {
        { "include table a\nfrobnicate table b\n", "on line 2: invalid filter command (expected \"include\" or \"exclude\")" },
        { "include\n", "on line 1: missing filter object type" },
        { "include view v\n", "on line 1: unsupported filter object type: \"view\"" },
        { "include table   \n", "on line 1: missing object name pattern" },
        { "include table_data t\n", "on line 1: include filter for \"table data\" is not allowed" },
        { "include table_data_and_children t\n", "on line 1: include filter for \"table data and children\" is not allowed" },
        { "include table_and_children t\n", "on line 1: include filter for \"table and children\" is not allowed" },
        { "include extension e\n", "on line 1: include filter for \"extension\" is not allowed" },
        { "include database d\n", "on line 1: include filter for \"database\" is not allowed" },
        { "include foreign_data s\n", "on line 1: include filter for \"foreign data\" is not allowed" },
        { "\n\nexclude table t\n", "on line 3: exclude filter for \"table\" is not allowed" },
        { "exclude index i\n", "on line 1: exclude filter for \"index\" is not allowed" },
        { "exclude function f()\n", "on line 1: exclude filter for \"function\" is not allowed" },
        { "exclude trigger t\n", "on line 1: exclude filter for \"trigger\" is not allowed" },
        { "include table \"never\nclosed\n", "on line 2: unexpected end of file" },
    };

    [Theory]
    [MemberData(nameof(BadFilters))]
    public void ABadLineIsOneErrorNamingTheFileAndTheLine(string text, string expected)
    {
        var e = Assert.Throws<PlanningException>(() => Read(text, "/tmp/my filter"));

        Assert.Equal("invalid format in filter read from file \"/tmp/my filter\" " + expected, e.Message);
    }

    [Fact]
    public void FromStandardInputTheMessageSaysSo()
    {
        var e = Assert.Throws<PlanningException>(() => Read("include nothing x\n", file: null));

        Assert.Equal("invalid format in filter read from standard input on line 1: unsupported filter object type: \"nothing\"", e.Message);
    }
}
