using System.Reflection;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>The projects depend on each other only as docs/architecture.md's table says (dependencies point down).</summary>
public sealed class ArchitectureTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["RestoreCluster.Archive"] = [],
        ["RestoreCluster.Planning"] = ["RestoreCluster.Archive"],
        ["RestoreCluster.Restore"] = ["RestoreCluster.Archive", "RestoreCluster.Planning"],
        ["RestoreCluster.Grains.Abstractions"] = [],
        ["RestoreCluster.Grains"] = ["RestoreCluster.Archive", "RestoreCluster.Planning", "RestoreCluster.Restore", "RestoreCluster.Grains.Abstractions"],
        ["RestoreCluster.Hosting"] = ["RestoreCluster.Archive", "RestoreCluster.Planning", "RestoreCluster.Restore", "RestoreCluster.Grains.Abstractions", "RestoreCluster.Grains"],
        ["RestoreCluster.LocalPostgres"] = [],
        ["restorecluster"] = ["RestoreCluster.Archive", "RestoreCluster.Planning", "RestoreCluster.Restore", "RestoreCluster.Grains.Abstractions", "RestoreCluster.Grains", "RestoreCluster.Hosting", "RestoreCluster.LocalPostgres"],
    };

    public static TheoryData<string> Assemblies() => [.. Allowed.Keys];

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void ProjectReferencesOnlyWhatTheArchitectureAllows(string name)
    {
        var assembly = Assembly.Load(name);

        var ours = assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => n.StartsWith("RestoreCluster.", StringComparison.Ordinal) || n == "restorecluster")
            .ToList();

        Assert.All(ours, n => Assert.Contains(n, Allowed[name]));
    }

    [Fact]
    public void ArchiveReaderUsesOnlyTheBclAndTheCompressionPackages()
    {
        var assembly = Assembly.Load("RestoreCluster.Archive");

        var foreign = assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => !n.StartsWith("System", StringComparison.Ordinal) && n is not ("netstandard" or "mscorlib")
                        && !n.StartsWith("K4os.", StringComparison.Ordinal) && n != "ZstdSharp")
            .ToList();

        Assert.Empty(foreign);
    }

    [Fact]
    public void LibrariesBelowTheGrainsDoNotUseOrleans()
    {
        foreach (string name in new[] { "RestoreCluster.Archive", "RestoreCluster.Planning", "RestoreCluster.Restore" })
        {
            Assert.DoesNotContain(Assembly.Load(name).GetReferencedAssemblies(), a => a.Name!.StartsWith("Orleans", StringComparison.Ordinal));
        }
    }
}
